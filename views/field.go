package views

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// FieldProps describe one form field: its control, label, help and error.
type FieldProps struct {
	ID           string // the control's id; help, error and counter ids derive from it
	Name         string // the form name; the error carries data-testid "error-<Name>"
	Label        string
	Help         string
	Error        string
	Kind         string // "text" (the default), "email", "password", "textarea" or "select"
	Value        string
	Options      []Option // for a select
	MaxLength    int      // the same limit validation applies
	Counter      bool     // show a live character count against MaxLength
	Rows         int      // for a textarea
	Placeholder  string
	InputMode    string
	Autocomplete string
	Required     bool
	Autofocus    bool
}

// Option is one choice of a select.
type Option struct {
	Value string
	Label string
}

func (p FieldProps) helpID() string    { return "h-" + p.ID }
func (p FieldProps) errorID() string   { return "e-" + p.ID }
func (p FieldProps) counterID() string { return "c-" + p.ID }

// describedBy lists the ids of the help, error and counter that describe the control.
func (p FieldProps) describedBy() string {
	var ids []string
	if p.Help != "" {
		ids = append(ids, p.helpID())
	}
	if p.Error != "" {
		ids = append(ids, p.errorID())
	}
	if p.Counter {
		ids = append(ids, p.counterID())
	}
	return strings.Join(ids, " ")
}

func (p FieldProps) inputType() string {
	if p.Kind == "" {
		return "text"
	}
	return p.Kind
}

func (p FieldProps) maxLength() string { return strconv.Itoa(p.MaxLength) }

func (p FieldProps) count() string {
	return strconv.Itoa(utf8.RuneCountInString(p.Value)) + " / " + strconv.Itoa(p.MaxLength)
}

// fieldAttrs are the attributes every control of a field carries.
func (p FieldProps) attrs() map[string]any {
	a := map[string]any{"id": p.ID, "name": p.Name}
	if d := p.describedBy(); d != "" {
		a["aria-describedby"] = d
	}
	if p.Error != "" {
		a["aria-invalid"] = "true"
	}
	if p.MaxLength > 0 {
		a["maxlength"] = p.maxLength()
	}
	if p.Counter {
		a["data-count"] = p.counterID()
	}
	for name, v := range map[string]string{"placeholder": p.Placeholder, "inputmode": p.InputMode, "autocomplete": p.Autocomplete} {
		if v != "" {
			a[name] = v
		}
	}
	if p.Required {
		a["required"] = true
	}
	if p.Autofocus {
		a["autofocus"] = true
	}
	return a
}

func rowsOf(p FieldProps) string {
	if p.Rows > 0 {
		return strconv.Itoa(p.Rows)
	}
	return "3"
}
