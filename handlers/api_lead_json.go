package handlers

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"keydesk/db"
)

// leadContact and leadVehicle are the parts of a lead, in and out. An
// answer leaves out what was not given, never "" (see openapi.json).
type leadContact struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

type leadVehicle struct {
	VIN         string `json:"vin,omitempty"`
	Year        int    `json:"year,omitempty"`
	Make        string `json:"make,omitempty"`
	Model       string `json:"model,omitempty"`
	StockNumber string `json:"stock_number,omitempty"`
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
	Vehicle    leadVehicle `json:"vehicle,omitzero"`
	Message    string      `json:"message,omitempty"`
	Source     string      `json:"source,omitempty"`
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
	errs := fieldErrors{}
	c := &in.Contact
	errs.singleLine("contact.first_name", &c.FirstName, maxNameLen)
	errs.singleLine("contact.last_name", &c.LastName, maxNameLen)
	errs.singleLine("contact.email", &c.Email, maxEmailLen)
	errs.singleLine("contact.phone", &c.Phone, maxPhoneLen)
	in.Vehicle.normalize(errs, now)
	errs.singleLine("source", &in.Source, maxSourceLen)

	in.Message = strings.TrimSpace(in.Message)
	if utf8.RuneCountInString(in.Message) > maxMessageLen {
		errs["message"] = fmt.Sprintf("Use at most %d characters.", maxMessageLen)
	} else if strings.IndexFunc(in.Message, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		errs["message"] = "Remove control characters."
	}

	if c.FirstName == "" && c.LastName == "" && errs["contact.last_name"] == "" {
		errs["contact.last_name"] = "Give a first or a last name."
	}
	errs.email("contact.email", c.Email)
	errs.phone("contact.phone", c.Phone)
	if c.Email == "" && c.Phone == "" && errs["contact.email"] == "" {
		errs["contact.email"] = "Give an email address or a phone number."
	}
	return errs
}

// fieldErrors holds a message per invalid field of a request body.
type fieldErrors map[string]string

// singleLine trims *p and checks it is one line of at most max characters.
func (errs fieldErrors) singleLine(field string, p *string, max int) {
	*p = strings.TrimSpace(*p)
	switch {
	case utf8.RuneCountInString(*p) > max:
		errs[field] = fmt.Sprintf("Use at most %d characters.", max)
	case strings.IndexFunc(*p, unicode.IsControl) >= 0:
		errs[field] = "Use a single line without control characters."
	}
}

// email checks a trimmed email address, unless it is empty or already invalid.
func (errs fieldErrors) email(field, s string) {
	if s != "" && errs[field] == "" {
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s || a.Name != "" {
			errs[field] = "This is not an email address such as name@example.com."
		}
	}
}

// phone checks a trimmed phone number, unless it is empty or already invalid.
func (errs fieldErrors) phone(field, s string) {
	if s != "" && errs[field] == "" && !validPhone(s) {
		errs[field] = "Use 7 to 15 digits, optionally with +, spaces, dashes, dots or brackets."
	}
}

// normalize trims the vehicle of a lead or a capture session, upper-cases its
// VIN and adds a message per invalid field to errs.
func (v *leadVehicle) normalize(errs fieldErrors, now time.Time) {
	errs.singleLine("vehicle.vin", &v.VIN, 17)
	errs.singleLine("vehicle.make", &v.Make, maxMakeLen)
	errs.singleLine("vehicle.model", &v.Model, maxMakeLen)
	errs.singleLine("vehicle.stock_number", &v.StockNumber, maxStockLen)
	if v.VIN != "" && errs["vehicle.vin"] == "" {
		v.VIN = strings.ToUpper(v.VIN)
		if !validVIN(v.VIN) {
			errs["vehicle.vin"] = "A VIN is 17 letters and digits, without I, O or Q."
		}
	}
	if v.Year != 0 && (v.Year < 1900 || v.Year > now.Year()+2) {
		errs["vehicle.year"] = fmt.Sprintf("Use a model year from 1900 to %d.", now.Year()+2)
	}
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
		// The live state's view of the key: a quarantined key's lead is parked, with no query.
		Parked: caller.key.Quarantined(),
	}
}
