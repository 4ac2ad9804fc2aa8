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
	Page   Page
	Key    db.APIKey
	Secret string
}

// KeyRevealVM shows a key's secret after an audited reveal.
type KeyRevealVM struct {
	Page   Page
	Key    db.APIKey
	Secret string
	Back   string
}

// KeyRevokeVM asks to confirm a revoke.
type KeyRevokeVM struct {
	Page Page
	Key  db.APIKey
}
