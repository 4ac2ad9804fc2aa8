package handlers

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"keydesk/db"
	"keydesk/keys"
)

// leadContact and leadVehicle are the parts of a lead, in and out.
type leadContact struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

type leadVehicle struct {
	VIN         string `json:"vin"`
	Year        int    `json:"year,omitempty"`
	Make        string `json:"make"`
	Model       string `json:"model"`
	StockNumber string `json:"stock_number"`
}

// leadInput is the body of POST /api/v1/leads.
type leadInput struct {
	Contact leadContact `json:"contact"`
	Vehicle leadVehicle `json:"vehicle"`
	Message string      `json:"message"`
	Source  string      `json:"source"`
}

// leadJSON is a lead as GET shows it.
type leadJSON struct {
	ID         string      `json:"id"`
	ReceivedAt string      `json:"received_at"`
	Mode       string      `json:"mode"`
	APIKeyName string      `json:"api_key_name"`
	Contact    leadContact `json:"contact"`
	Vehicle    leadVehicle `json:"vehicle"`
	Message    string      `json:"message"`
	Source     string      `json:"source"`
}

func toLeadJSON(l db.Lead) leadJSON {
	return leadJSON{
		ID: l.PublicID, ReceivedAt: l.ReceivedAt.UTC().Format(time.RFC3339), Mode: string(l.Mode), APIKeyName: l.KeyName,
		Contact: leadContact{FirstName: l.FirstName, LastName: l.LastName, Email: l.Email, Phone: l.Phone},
		Vehicle: leadVehicle{VIN: l.VIN, Year: l.Year, Make: l.Make, Model: l.Model, StockNumber: l.StockNumber},
		Message: l.Message, Source: l.Source,
	}
}

// Limits of a lead's fields.
const (
	maxNameLen    = 100
	maxEmailLen   = 254
	maxPhoneLen   = 32
	maxMakeLen    = 64
	maxStockLen   = 32
	maxMessageLen = 4000
	maxSourceLen  = 64
)

// normalize trims the input and returns a message per invalid field.
func (in *leadInput) normalize(now time.Time) map[string]string {
	errs := map[string]string{}
	line := func(field string, p *string, max int) {
		*p = strings.TrimSpace(*p)
		switch {
		case utf8.RuneCountInString(*p) > max:
			errs[field] = fmt.Sprintf("Use at most %d characters.", max)
		case strings.IndexFunc(*p, unicode.IsControl) >= 0:
			errs[field] = "Use a single line without control characters."
		}
	}
	c, v := &in.Contact, &in.Vehicle
	line("contact.first_name", &c.FirstName, maxNameLen)
	line("contact.last_name", &c.LastName, maxNameLen)
	line("contact.email", &c.Email, maxEmailLen)
	line("contact.phone", &c.Phone, maxPhoneLen)
	line("vehicle.vin", &v.VIN, 17)
	line("vehicle.make", &v.Make, maxMakeLen)
	line("vehicle.model", &v.Model, maxMakeLen)
	line("vehicle.stock_number", &v.StockNumber, maxStockLen)
	line("source", &in.Source, maxSourceLen)

	in.Message = strings.TrimSpace(in.Message)
	if utf8.RuneCountInString(in.Message) > maxMessageLen {
		errs["message"] = fmt.Sprintf("Use at most %d characters.", maxMessageLen)
	} else if strings.IndexFunc(in.Message, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		errs["message"] = "Remove control characters."
	}

	if c.FirstName == "" && c.LastName == "" && errs["contact.last_name"] == "" {
		errs["contact.last_name"] = "Give a first or a last name."
	}
	if c.Email != "" && errs["contact.email"] == "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || a.Name != "" {
			errs["contact.email"] = "This is not an email address such as name@example.com."
		}
	}
	if c.Phone != "" && errs["contact.phone"] == "" && !validPhone(c.Phone) {
		errs["contact.phone"] = "Use 7 to 15 digits, optionally with +, spaces, dashes, dots or brackets."
	}
	if c.Email == "" && c.Phone == "" && errs["contact.email"] == "" {
		errs["contact.email"] = "Give an email address or a phone number."
	}
	if v.VIN != "" && errs["vehicle.vin"] == "" {
		v.VIN = strings.ToUpper(v.VIN)
		if !validVIN(v.VIN) {
			errs["vehicle.vin"] = "A VIN is 17 letters and digits, without I, O or Q."
		}
	}
	if v.Year != 0 && (v.Year < 1900 || v.Year > now.Year()+2) {
		errs["vehicle.year"] = fmt.Sprintf("Use a model year from 1900 to %d.", now.Year()+2)
	}
	return errs
}

func validPhone(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '+' && i == 0, c == ' ', c == '-', c == '.', c == '(', c == ')':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}

func validVIN(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') || c == 'I' || c == 'O' || c == 'Q' {
			return false
		}
	}
	return true
}

func (in *leadInput) toLead(caller *apiCaller, id string, now time.Time) db.Lead {
	return db.Lead{
		PublicID: id, AccountID: caller.key.AccountID, KeyID: caller.key.ID, Mode: caller.key.Mode,
		FirstName: in.Contact.FirstName, LastName: in.Contact.LastName, Email: in.Contact.Email, Phone: in.Contact.Phone,
		VIN: in.Vehicle.VIN, Year: in.Vehicle.Year, Make: in.Vehicle.Make, Model: in.Vehicle.Model,
		StockNumber: in.Vehicle.StockNumber, Message: in.Message, Source: in.Source, ReceivedAt: now,
	}
}

// leadIDEncoding is base32 with an alphabet in ASCII order, so ids sort as their bytes do.
var leadIDEncoding = base32.NewEncoding("234567abcdefghijklmnopqrstuvwxyz").WithPadding(base32.NoPadding)

// newLeadID returns a public id such as ld_…: the time received in
// milliseconds, so ids (and their index) grow in order, then 80 random bits
// so they cannot be guessed.
func newLeadID(m keys.Mode, now time.Time) string {
	var b [15]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	prefix := "ld_"
	if m == keys.Test {
		prefix = "ld_test_"
	}
	return prefix + leadIDEncoding.EncodeToString(b[:])
}
