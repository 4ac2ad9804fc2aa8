package handlers

import (
	"strconv"
	"strings"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

// captureCustomer is the person a capture session's link is sent to.
type captureCustomer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// captureOverrides are the settings a request may set instead of the key's
// defaults; a field left out (or null) keeps the key's value.
type captureOverrides struct {
	Theme                *string `json:"theme,omitempty"`
	PIIMask              *bool   `json:"pii_mask,omitempty"`
	RedirectURL          *string `json:"redirect_url,omitempty"`
	SkipInterior         *bool   `json:"skip_interior,omitempty"`
	SkipOdometer         *bool   `json:"skip_odometer,omitempty"`
	IncludeDisclosures   *bool   `json:"include_disclosures,omitempty"`
	IncludeAnnouncements *bool   `json:"include_announcements,omitempty"`
	WearAndTear          *bool   `json:"wear_and_tear,omitempty"`
}

// captureSessionInput is the body of POST /api/v1/capture-sessions.
type captureSessionInput struct {
	Customer captureCustomer  `json:"customer"`
	Vehicle  leadVehicle      `json:"vehicle"`
	Settings captureOverrides `json:"settings"`
}

// captureSettingsJSON are the settings a session was made with.
type captureSettingsJSON struct {
	Theme                string `json:"theme"`
	PIIMask              bool   `json:"pii_mask"`
	RedirectURL          string `json:"redirect_url,omitempty"`
	SkipInterior         bool   `json:"skip_interior"`
	SkipOdometer         bool   `json:"skip_odometer"`
	IncludeDisclosures   bool   `json:"include_disclosures"`
	IncludeAnnouncements bool   `json:"include_announcements"`
	WearAndTear          bool   `json:"wear_and_tear"`
}

// captureSessionJSON is a capture session as the API shows it.
type captureSessionJSON struct {
	ID                     string              `json:"id"`
	Status                 string              `json:"status"`
	Mode                   string              `json:"mode"`
	APIKeyName             string              `json:"api_key_name"`
	CaptureURL             string              `json:"capture_url"`
	Customer               captureCustomer     `json:"customer"`
	Vehicle                leadVehicle         `json:"vehicle,omitzero"`
	Settings               captureSettingsJSON `json:"settings"`
	RequiresManualOdometer bool                `json:"requires_manual_odometer"`
	CaptureSMS             string              `json:"capture_sms,omitempty"`
	CreatedAt              string              `json:"created_at"`
	ExpiresAt              string              `json:"expires_at"`
}

// Statuses of a capture session. Nothing completes a session yet, so it is
// pending until it expires.
const (
	captureStatusPending = "pending"
	captureStatusExpired = "expired"
)

func toCaptureSessionJSON(s db.CaptureSession, now time.Time) captureSessionJSON {
	status := captureStatusPending
	if s.Expired(now) {
		status = captureStatusExpired
	}
	st := s.Settings
	return captureSessionJSON{
		ID: s.PublicID, Status: status, Mode: string(s.Mode), APIKeyName: s.KeyName, CaptureURL: s.CaptureURL,
		Customer: captureCustomer{Name: s.CustomerName, Email: s.CustomerEmail, Phone: s.CustomerPhone},
		Vehicle:  leadVehicle{VIN: s.VIN, Year: s.Year, Make: s.Make, Model: s.Model, StockNumber: s.StockNumber},
		Settings: captureSettingsJSON{Theme: st.Theme, PIIMask: st.PIIMask, RedirectURL: st.RedirectURL,
			SkipInterior: st.SkipInterior, SkipOdometer: st.SkipOdometer, IncludeDisclosures: st.IncludeDisclosures,
			IncludeAnnouncements: st.IncludeAnnouncements, WearAndTear: st.WearAndTear},
		RequiresManualOdometer: st.SkipOdometer,
		CaptureSMS:             s.CaptureSMS,
		CreatedAt:              s.CreatedAt.UTC().Format(time.RFC3339),
		ExpiresAt:              s.ExpiresAt.UTC().Format(time.RFC3339),
	}
}

// decodeCaptureSession reads and validates a capture session request, with
// the same contract as decodeJSONObject.
func decodeCaptureSession(body []byte, now time.Time) (captureSessionInput, map[string]string) {
	var in captureSessionInput
	if fields := decodeJSONObject(body, &in, "a capture session"); fields != nil {
		return in, fields
	}
	if errs := in.normalize(now); len(errs) > 0 {
		return in, errs
	}
	return in, nil
}

// normalize trims the input and returns a message per invalid field.
func (in *captureSessionInput) normalize(now time.Time) map[string]string {
	errs := fieldErrors{}
	c, s := &in.Customer, &in.Settings
	errs.singleLine("customer.name", &c.Name, maxNameLen)
	errs.singleLine("customer.email", &c.Email, maxEmailLen)
	errs.singleLine("customer.phone", &c.Phone, maxPhoneLen)
	in.Vehicle.normalize(errs, now)

	errs.email("customer.email", c.Email)
	errs.phone("customer.phone", c.Phone)
	if c.Email == "" && c.Phone == "" && errs["customer.email"] == "" && errs["customer.phone"] == "" {
		errs["customer.phone"] = "Give a phone number or an email address, so the capture link can reach the customer."
	}
	if s.Theme != nil && *s.Theme != "lite" && *s.Theme != "pro" {
		errs["settings.theme"] = `Use "lite" or "pro".`
	}
	if s.RedirectURL != nil {
		*s.RedirectURL = strings.TrimSpace(*s.RedirectURL)
		if msg := keys.CheckRedirectURL(*s.RedirectURL); msg != "" {
			errs["settings.redirect_url"] = msg
		}
	}
	return errs
}

// apply returns the key's capture settings with the request's overrides.
func (o captureOverrides) apply(k keys.Settings) db.CaptureSettings {
	s := db.CaptureSettings{Theme: k.Theme, PIIMask: k.PIIMask, RedirectURL: k.RedirectURL,
		SkipInterior: k.SkipInterior, SkipOdometer: k.SkipOdometer, IncludeDisclosures: k.IncludeDisclosures,
		IncludeAnnouncements: k.IncludeAnnouncements, WearAndTear: k.WearAndTear}
	set := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	if o.Theme != nil {
		s.Theme = *o.Theme
	}
	if o.RedirectURL != nil {
		s.RedirectURL = *o.RedirectURL
	}
	set(&s.PIIMask, o.PIIMask)
	set(&s.SkipInterior, o.SkipInterior)
	set(&s.SkipOdometer, o.SkipOdometer)
	set(&s.IncludeDisclosures, o.IncludeDisclosures)
	set(&s.IncludeAnnouncements, o.IncludeAnnouncements)
	set(&s.WearAndTear, o.WearAndTear)
	return s
}

// describe is the vehicle as the {vehicle} placeholder says it: "2024 Honda
// Accord", else the VIN or stock number.
func (v leadVehicle) describe() string {
	var parts []string
	if v.Year != 0 {
		parts = append(parts, strconv.Itoa(v.Year))
	}
	for _, p := range []string{v.Make, v.Model} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	switch {
	case v.Make != "" || v.Model != "":
		return strings.Join(parts, " ")
	case v.VIN != "":
		return v.VIN
	case v.StockNumber != "":
		return "stock number " + v.StockNumber
	}
	return strings.Join(parts, " ")
}

// renderCaptureSMS fills a key's capture SMS template; an empty template stays empty.
func renderCaptureSMS(template, dealer, customer, link, vehicle string) string {
	if template == "" {
		return ""
	}
	return strings.NewReplacer("{dealer}", dealer, "{customer}", customer, "{link}", link, "{vehicle}", vehicle).Replace(template)
}
