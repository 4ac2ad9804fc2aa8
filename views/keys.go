package views

import (
	"slices"

	"keydesk/db"
	"keydesk/keys"
)

// KeySection is one of the two tables of Settings › Integrations.
type KeySection struct {
	Type db.KeyType
	Keys []db.APIKey
}

// Title is the section heading of the CarBuddii model.
func (s KeySection) Title() string {
	if s.Type == db.Integration {
		return "API keys for extensive integrations"
	}
	return "API keys for digital requests"
}

// Explanation is the one line under the heading.
func (s KeySection) Explanation() string {
	if s.Type == db.Integration {
		return "Read & write: lets software such as a DMS or CRM insert data and pull customer information out of keydesk. Use with caution."
	}
	return "Write-only: lets a website contact form or a lead partner push new leads in. It cannot read any of your data."
}

// KeysVM is Settings › Integrations (admin) or the API Keys view (everyone).
type KeysVM struct {
	Page     Page
	Sections []KeySection
	Admin    bool // show create, edit and revoke controls
}

// KeyRowVM is one row of a key table.
type KeyRowVM struct {
	Key   db.APIKey
	Admin bool   // show edit and revoke
	CSRF  string // for the Reveal form
	OOB   bool   // swapped in out of band, replacing the row with the same id
}

// KeyForm holds what was typed into the Create New Key / Edit settings form.
type KeyForm struct {
	ID                   int64 // 0 while creating
	Type                 db.KeyType
	Mode                 keys.Mode // shown, not editable, when editing
	Name                 string
	Licenses             []string
	Live                 bool
	Theme                string
	PIIMask              bool
	RedirectURL          string
	SkipInterior         bool
	SkipOdometer         bool
	IncludeDisclosures   bool
	IncludeAnnouncements bool
	CaptureSMS           string
	ResultsSMS           string
	WearAndTear          bool
	SessionExpiry        string
}

// HasLicense reports whether the license box is ticked.
func (f KeyForm) HasLicense(l string) bool { return slices.Contains(f.Licenses, l) }

// KeyFormVM is the key form, in the modal or as a page of its own.
type KeyFormVM struct {
	Page            Page
	Form            KeyForm
	Errors          map[string]string
	AccountLicenses []string
}

// fieldOrder is the order of the form's fields, for focusing the first bad one.
var fieldOrder = []string{"name", "licenses", "live", "theme", "redirect_url", "capture_sms", "results_sms", "session_expiry"}

// focus reports whether field should take the focus: the first field with an
// error, or the name when there is none.
func (vm KeyFormVM) focus(field string) bool {
	for _, f := range fieldOrder {
		if vm.Errors[f] != "" {
			return f == field
		}
	}
	return field == "name"
}

func (vm KeyFormVM) editing() bool { return vm.Form.ID != 0 }

func (vm KeyFormVM) action() string {
	if vm.editing() {
		return keyPath(vm.Form.ID, "")
	}
	return "/settings/integrations/keys"
}

func (vm KeyFormVM) title() string {
	if vm.editing() {
		return "Edit key settings"
	}
	return "Create New Key"
}

// KeyCreatedVM shows a new key and its secret, once.
type KeyCreatedVM struct {
	Page     Page
	Key      db.APIKey
	Secret   string
	Replaced *db.APIKey // the key a roll revoked, if this one replaces it
}

func (vm KeyCreatedVM) title() string {
	if vm.Replaced != nil {
		return "Key rolled"
	}
	return "Key created"
}

// KeyRevealVM shows a key's secret after an audited reveal.
type KeyRevealVM struct {
	Page   Page
	Key    db.APIKey
	Secret string
	Back   string
}

// KeyConfirmVM asks to confirm a revoke or a roll.
type KeyConfirmVM struct {
	Page   Page
	Key    db.APIKey
	Action string // "revoke" or "roll"
}

func (vm KeyConfirmVM) verb() string {
	if vm.Action == "roll" {
		return "Roll"
	}
	return "Revoke"
}
