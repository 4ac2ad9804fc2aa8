package views

import (
	"slices"

	"keydesk/db"
	"keydesk/keys"
)

// KeyForm holds what was typed into the Create New Key / Edit settings form.
type KeyForm struct {
	ID       int64 // 0 while creating
	Type     db.KeyType
	Mode     keys.Mode // shown, not editable, when editing
	Name     string
	Licenses []string
	Live     bool
	// Values are the settings as typed, by form field (keys.Fields).
	Values map[string]string
}

// V is a setting's value as typed.
func (f KeyForm) V(name string) string { return f.Values[name] }

// On reports whether a setting's box is ticked.
func (f KeyForm) On(name string) bool { return f.Values[name] != "" }

// HasLicense reports whether the license box is ticked.
func (f KeyForm) HasLicense(l string) bool { return slices.Contains(f.Licenses, l) }

// KeyFormVM is the key form, in the modal or as a page of its own.
type KeyFormVM struct {
	Page            Page
	Form            KeyForm
	Errors          map[string]string
	AccountLicenses []string
	BackToKey       bool // opened from the key's page, which the form returns to
}

// The collapsible groups of the form and the fields in each; a setting the
// form shows by itself (keys.Shown) joins its group's list.
var (
	captureFields = []string{"theme", "redirect_url", "session_expiry"}
	smsFields     = []string{"capture_sms", "results_sms"}
	accessFields  = append([]string{"expires", "ip_mode", "ip_allow", "rate_limit", "daily_lead_limit"}, shownNames("access")...)
)

// fieldOrder is the order of the form's fields, for focusing the first bad one.
var fieldOrder = slices.Concat([]string{"name", "licenses", "live"}, shownNames("about"), captureFields, accessFields, smsFields)

func shownNames(group string) []string {
	var out []string
	for _, f := range keys.Shown(group) {
		out = append(out, f.Name)
	}
	return out
}

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

// open reports whether a group holds a field with an error, and so opens.
func (vm KeyFormVM) open(fields []string) bool {
	return slices.ContainsFunc(fields, func(f string) bool { return vm.Errors[f] != "" })
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

// cancel is where Cancel leads without scripts.
func (vm KeyFormVM) cancel() string { return backPath(vm.Form.ID, vm.BackToKey) }

// backPath is the admin's key page when an action was opened there, else the list.
func backPath(id int64, toKey bool) string {
	if toKey && id != 0 {
		return keyPath(id, "")
	}
	return "/settings/integrations"
}

// backQuery is the query that makes a dialog opened from a key's page
// return there: "?back=key", or nothing from the list.
func backQuery(toKey bool) string {
	if toKey {
		return "?back=key"
	}
	return ""
}

// field is the props of a text field of the form.
func (vm KeyFormVM) field(name, label, value, help string) FieldProps {
	return FieldProps{ID: "f-" + name, Name: name, Label: label, Value: value, Help: help,
		Error: vm.Errors[name], Autofocus: vm.focus(name)}
}

func (vm KeyFormVM) smsField(name, label, value, help string) FieldProps {
	p := vm.field(name, label, value, "Optional. "+help+" Placeholders: {dealer} {customer} {link} {vehicle}.")
	p.Kind, p.Rows, p.MaxLength, p.Counter = "textarea", 3, keys.MaxSMS, true
	return p
}

func expiryOptions() []Option {
	out := make([]Option, len(keys.Expiries))
	for i, e := range keys.Expiries {
		out[i] = Option{Value: e.Value, Label: e.Label}
	}
	return out
}

var ipModes = []Option{{"off", "Off"}, {"report", "Report only"}, {"enforce", "Enforce"}}

// keyExpiryOptions are the Expires choices; editing a key with an expiry
// offers to keep it as it is.
func (vm KeyFormVM) keyExpiryOptions() []Option {
	var out []Option
	if vm.Form.V("expires") == "keep" || vm.editing() && vm.Form.V("expires_on") != "" {
		label := "Unchanged (through " + vm.Form.V("expires_on") + ")"
		if until := vm.Form.V("expires_until"); until != "" {
			label = "Unchanged (until " + until + ")"
		}
		out = append(out, Option{Value: "keep", Label: label})
	}
	for _, e := range keys.KeyExpiries {
		out = append(out, Option{Value: e.Value, Label: e.Label})
	}
	return out
}
