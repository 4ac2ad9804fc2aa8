package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/keys/visible"
	"keydesk/views"
	"keydesk/web"
)

// parseForm reads the posted form; a body over 1 MiB is a 413.
func parseForm(c echo.Context) (url.Values, error) {
	if err := c.Request().ParseForm(); err != nil {
		if web.IsTooLarge(err) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge,
				"The form is larger than 1 MiB. Shorten the longest fields and send it again.")
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read. Reload the page and try again.")
	}
	return c.Request().PostForm, nil
}

// keyFormFrom reads the key form's fields as typed.
func keyFormFrom(v url.Values) views.KeyForm {
	f := views.KeyForm{
		Type:     db.KeyType(v.Get("type")),
		Name:     strings.TrimSpace(v.Get("name")),
		Licenses: v["licenses"],
		Live:     v.Get("live") != "",
		Values:   map[string]string{"expires_on": v.Get("expires_on"), "expires_until": v.Get("expires_until")},
	}
	for _, field := range keys.Fields {
		f.Values[field.Name] = v.Get(field.Name)
	}
	return f
}

// keyFormOf fills the form from a stored key, for editing.
func keyFormOf(k db.APIKey) views.KeyForm {
	return views.KeyForm{ID: k.ID, Type: k.Type, Mode: k.Mode, Name: k.Name, Licenses: k.Licenses,
		Live: k.Mode == keys.Live, Values: keys.FormValues(k.Settings)}
}

// newKeyForm is the form as it first opens: sensible defaults.
func newKeyForm(t db.KeyType, acc db.Account) views.KeyForm {
	f := views.KeyForm{Type: t, Live: true, Values: keys.FormValues(keys.DefaultSettings())}
	if len(acc.Licenses) == 1 {
		f.Licenses = acc.Licenses
	}
	return f
}

// validateKeyForm checks every field and returns the settings read and a
// message per bad field. When editing, existing is the stored key: type and
// mode may not change, and its settings are what the form starts from.
func validateKeyForm(f views.KeyForm, raw url.Values, acc db.Account, existing *db.APIKey, now time.Time) (keys.Settings, map[string]string) {
	base := keys.DefaultSettings()
	if existing != nil {
		base = existing.Settings
	}
	settings, errs := keys.ParseSettings(base, f.V, now)
	if f.Type != db.DigitalRequests {
		delete(errs, "daily_lead_limit")
		settings.DailyLeadLimit = 0
	}
	switch n := utf8.RuneCountInString(f.Name); {
	case n == 0:
		errs["name"] = `Give the key a name, such as "Main Website Lead Form".`
	case n > keys.MaxName:
		errs["name"] = fmt.Sprintf("Keep the name to %d characters or fewer (it has %d).", keys.MaxName, n)
	case strings.ContainsFunc(f.Name, unicode.IsControl):
		errs["name"] = "Use letters, digits, spaces and punctuation only."
	default:
		if err := visible.Check("The name", f.Name); err != nil {
			errs["name"] = err.Error() + "."
		}
	}
	if existing == nil {
		if f.Type != db.DigitalRequests && f.Type != db.Integration {
			errs["form"] = "The key type was not recognised. Close this form and use one of the Create New Key buttons."
		}
		if v := raw.Get("live"); v != "" && v != "on" {
			errs["live"] = "Live is either on or off: use the toggle."
		}
	} else {
		if t := raw.Get("type"); t != "" && db.KeyType(t) != existing.Type {
			errs["form"] = "A key's type cannot change. Create a new key of the other type instead."
		}
		if raw.Has("live") || raw.Has("mode") {
			if (raw.Get("live") != "") != (existing.Mode == keys.Live) || (raw.Has("mode") && raw.Get("mode") != string(existing.Mode)) {
				errs["live"] = "A key's mode cannot change. Create a new key to switch between live and test."
			}
		}
	}
	if len(f.Licenses) == 0 {
		errs["licenses"] = "Tick at least one license: the key can only call the APIs of the licenses it holds."
	}
	seen := map[string]bool{}
	for _, l := range f.Licenses {
		if !acc.Holds(l) {
			errs["licenses"] = fmt.Sprintf("Your account does not hold the %q license. Tick only the licenses listed.", l)
		}
		if seen[l] {
			errs["licenses"] = "Tick each license once."
		}
		seen[l] = true
	}
	return settings, errs
}

// orderedLicenses keeps the licenses in the account's order, without repeats.
func orderedLicenses(ls []string) []string {
	var out []string
	for _, l := range db.AllLicenses {
		if slices.Contains(ls, l) {
			out = append(out, l)
		}
	}
	return out
}

// renderKeyForm shows the form, in the modal for htmx and as a page otherwise.
func renderKeyForm(c echo.Context, status int, f views.KeyForm, errs map[string]string) error {
	title := "Create New Key"
	if f.ID != 0 {
		title = "Edit key settings"
	}
	vm := views.KeyFormVM{Page: page(c, title, "integrations"), Form: f, Errors: errs,
		AccountLicenses: viewer(c).Account.Licenses, BackToKey: backToKey(c)}
	if web.IsHTMX(c) {
		return web.Render(c, status, views.KeyFormModal(vm))
	}
	return web.Render(c, status, views.KeyFormPage(vm))
}

func isDuplicate(err error) bool { return errors.Is(err, db.ErrDuplicate) }

func duplicateNameError(name string) map[string]string {
	return map[string]string{"name": fmt.Sprintf("Another active key is already called %q. Choose another name.", name)}
}
