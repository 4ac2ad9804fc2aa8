package views

import (
	"net/url"
	"strconv"
	"time"

	"keydesk/db"
)

// KeysPerPage is how many keys a section shows at once.
const KeysPerPage = 50

// KeyListFilter is what the filter bar of a key list holds.
type KeyListFilter struct {
	Query       string
	Mode        string // "", "live" or "test"
	Status      string // "", db.KeyStatusActive, db.KeyStatusRevoked or db.KeyStatusUnused
	ShowRevoked bool
	// Type shows one section only (a landing page figure's link); "" both.
	Type db.KeyType
}

// Active reports whether anything narrows the list.
func (f KeyListFilter) Active() bool {
	return f.Query != "" || f.Mode != "" || f.Status != "" || f.ShowRevoked || f.Type != ""
}

// KeySection is one of the two tables of a key list.
type KeySection struct {
	Type    db.KeyType
	Keys    []db.APIKey
	Total   int // keys matching the filter, over every page
	PageNum int // 1-based
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

func (s KeySection) first() int { return (s.PageNum-1)*KeysPerPage + 1 }
func (s KeySection) last() int  { return s.first() + len(s.Keys) - 1 }
func (s KeySection) hasPrev() bool {
	return s.PageNum > 1
}
func (s KeySection) hasNext() bool { return s.PageNum*KeysPerPage < s.Total }

// KeysVM is Settings › Integrations (admin) or the API Keys view (everyone).
type KeysVM struct {
	Page     Page
	Admin    bool   // show create, edit, roll and revoke controls
	Path     string // the list's own address, for filters and pages
	Filter   KeyListFilter
	Sections []KeySection
}

// PageParam is the query parameter of a section's page number.
func PageParam(t db.KeyType) string { return "page_" + string(t) }

// URL is the list's address with its filter and pages.
func (vm KeysVM) URL() string { return vm.url("", 0) }

// url is the list's address with its filter and each section on page, except
// section t on page n.
func (vm KeysVM) url(t db.KeyType, n int) string {
	q := url.Values{}
	if vm.Filter.Query != "" {
		q.Set("q", vm.Filter.Query)
	}
	if vm.Filter.Mode != "" {
		q.Set("mode", vm.Filter.Mode)
	}
	if vm.Filter.Status != "" {
		q.Set("status", vm.Filter.Status)
	}
	if vm.Filter.ShowRevoked {
		q.Set("revoked", "1")
	}
	if vm.Filter.Type != "" {
		q.Set("type", string(vm.Filter.Type))
	}
	for _, s := range vm.Sections {
		p := s.PageNum
		if s.Type == t {
			p = n
		}
		if p > 1 {
			q.Set(PageParam(s.Type), strconv.Itoa(p))
		}
	}
	if len(q) == 0 {
		return vm.Path
	}
	return vm.Path + "?" + q.Encode()
}

// KeyRowVM is one row of a key table.
type KeyRowVM struct {
	Key   db.APIKey
	Admin bool // link to the admin's key page and offer edit, roll and revoke
	Now   time.Time
	CSRF  string // for the one-click Pause and Resume
}

// KeysChanged is the event after which a key list fetches its sections again.
const KeysChanged = "keydesk:keys-changed"
