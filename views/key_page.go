package views

import (
	"slices"
	"strconv"
	"time"

	"keydesk/db"
	"keydesk/keys"
)

// KeyPageVM is the page of one key.
type KeyPageVM struct {
	Page   Page
	Key    db.APIKey
	Admin  bool            // the admin's page: actions and the key's audit events
	Events []db.AuditEvent // the newest first
	// IPReports are the addresses seen outside the key's allowlist lately.
	IPReports []db.IPReport
	// Instances is how many instances share the key's limits.
	Instances int
	// Parked is how many leads the key has parked (up to db.MaxParkedCount+1).
	Parked int
}

// parkedWords says how many leads are parked: "No leads parked", "3 leads parked".
func parkedWords(n int) string {
	switch {
	case n == 0:
		return "No leads parked"
	case n == 1:
		return "1 lead parked"
	case n > db.MaxParkedCount:
		return "More than " + strconv.Itoa(db.MaxParkedCount) + " leads parked"
	}
	return strconv.Itoa(n) + " leads parked"
}

// KeyRevealVM shows a key's secret after an audited reveal, without JavaScript.
type KeyRevealVM struct {
	Page   Page
	Key    db.APIKey
	Secret string
	Back   string
}

func (vm KeyPageVM) listPath() string {
	if vm.Admin {
		return "/settings/integrations"
	}
	return "/keys"
}

func (vm KeyPageVM) listName() string {
	if vm.Admin {
		return "Settings › Integrations"
	}
	return "API Keys"
}

func typeSummary(t db.KeyType) string {
	if t == db.Integration {
		return "Extensive integration: reads and writes, including customer data."
	}
	return "Digital requests: write-only, pushes leads in and reads nothing."
}

func onOff(on bool, yes, no string) string {
	if on {
		return yes
	}
	return no
}

func ipModeWords(m keys.IPMode) string {
	switch m {
	case keys.IPReport:
		return "Report only: calls from other addresses are let through and listed below."
	case keys.IPEnforce:
		return "Enforce: calls from other addresses are refused with 403 ip_not_allowed."
	}
	return "Off: calls are taken from any address."
}

// limitWords says a limit in words, with how it is shared between instances.
func (vm KeyPageVM) limitWords(n int64, unit string) string {
	if n == 0 {
		return "None."
	}
	s := strconv.FormatInt(n, 10) + " " + unit + "."
	if vm.Instances > 1 {
		s += " Each of the " + strconv.Itoa(vm.Instances) + " instances allows its share, " +
			strconv.FormatInt((n+int64(vm.Instances)-1)/int64(vm.Instances), 10) + "."
	}
	return s
}

func callCount(n int64) string {
	if n == 1 {
		return "1 call"
	}
	return strconv.FormatInt(n, 10) + " calls"
}

func themeLabel(theme string) string {
	if theme == "pro" {
		return "Pro"
	}
	return "Lite"
}

func expiryLabel(k db.APIKey) string {
	if e, ok := keys.ExpiryByDuration(k.Settings.SessionExpiry); ok {
		return e.Label
	}
	return k.Settings.SessionExpiry.String()
}

// actionWords says what an audit entry did, in words.
func actionWords(action string) string {
	switch action {
	case db.AuditCreate:
		return "Created"
	case db.AuditEdit:
		return "Settings changed"
	case db.AuditReveal:
		return "Secret revealed"
	case db.AuditRevoke:
		return "Revoked"
	case db.AuditRoll:
		return "Rolled"
	case db.AuditPause:
		return "Paused"
	case db.AuditResume:
		return "Resumed"
	case db.AuditRetiring:
		return "Retiring countdown started"
	case db.AuditEndTokens:
		return "Tokens ended"
	case db.AuditDebugSignatures:
		return "Signature failures opened"
	case db.AuditQuarantine:
		return "Quarantined"
	case db.AuditEndQuarantine:
		return "Quarantine ended"
	case db.AuditReleaseLeads:
		return "Leads released"
	case db.AuditDiscardLeads:
		return "Leads discarded"
	}
	return action
}

// holdsCapture reports whether the key may make capture sessions, which
// its capture settings shape.
func holdsCapture(k db.APIKey) bool { return slices.Contains(k.Licenses, db.LicenseCapture) }

// keyStatus is a key's state in one word, for its badge.
func keyStatus(k db.APIKey, now time.Time) string {
	switch {
	case k.Revoked():
		return "revoked"
	case k.Retiring() && !now.Before(k.RetiresAt()):
		return "retired"
	case k.Retiring():
		return "retiring"
	case k.Paused():
		return "paused"
	case k.Expired(now):
		return "expired"
	case !k.Settings.ExpiresAt.IsZero() && k.Settings.ExpiresAt.Sub(now) <= keys.ExpiringSoon:
		return "expiring"
	}
	return "active"
}
