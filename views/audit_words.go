package views

import (
	"strings"

	"keydesk/db"
)

// AuditAction is one choice of the audit log's Action filter.
type AuditAction struct{ Value, Label string }

// AuditActions are the actions the audit log records, in the filter's order.
var AuditActions = []AuditAction{
	{db.AuditCreate, "Key created"}, {db.AuditEdit, "Key edited"}, {db.AuditReveal, "Secret revealed"},
	{db.AuditRoll, "Key rolled"}, {db.AuditRevoke, "Key revoked"},
	{db.AuditEndTokens, "Tokens ended"}, {db.AuditPause, "Key paused"}, {db.AuditResume, "Key resumed"},
	{db.AuditRetiring, "Retiring countdown started"}, {db.AuditDebugSignatures, "Signature failures opened"},
	{db.AuditQuarantine, "Key quarantined"}, {db.AuditEndQuarantine, "Quarantine ended"},
	{db.AuditReleaseLeads, "Quarantined leads released"}, {db.AuditDiscardLeads, "Quarantined leads discarded"},
	{db.AuditUserInvite, "Person invited"}, {db.AuditUserAccept, "Invite accepted"},
	{db.AuditUserRole, "Role changed"}, {db.AuditUserDisable, "Person disabled"},
	{db.AuditUserEnable, "Person enabled"}, {db.AuditUserReset, "Sign-in reset"},
}

// AuditSentence says in words what an audit entry records; secrets are never in an entry.
func AuditSentence(e db.AuditEvent) string {
	who := e.SubjectEmail
	switch e.Action {
	case db.AuditCreate:
		if from, ok := strings.CutPrefix(e.Detail, "rolled from "); ok {
			return "Created by rolling " + from
		}
		if typ, mode, ok := strings.Cut(e.Detail, ", "); ok {
			return "Created a key: " + typeLabel(db.KeyType(typ)) + ", " + mode
		}
		return "Created the key"
	case db.AuditEdit:
		if e.Detail == "" || e.Detail == "no change" {
			return "Saved the settings without a change"
		}
		if c := e.Detail[0]; 'a' <= c && c <= 'z' { // entries written before edits were told in words
			return "Changed " + e.Detail
		}
		return e.Detail
	case db.AuditReveal:
		return "Revealed the secret"
	case db.AuditRevoke:
		return "Revoked the key; its access tokens ended"
	case db.AuditRoll:
		return "Rolled the key: " + e.Detail
	case db.AuditEndTokens:
		return "Ended every access token of the key; the key still works"
	case db.AuditPause:
		return "Paused the key: its calls are refused until it is resumed"
	case db.AuditResume:
		return "Resumed the key; tokens from before the pause stay ended"
	case db.AuditRetiring:
		if e.Detail != "" {
			return "Retiring: " + e.Detail
		}
		return "Retiring: the new key was first used"
	case db.AuditDebugSignatures:
		return "Opened the signature debugger (what clients sent with failed requests)"
	case db.AuditQuarantine:
		return "Quarantined the key: its leads get their usual receipt but are parked, out of Leads, the API and the counts"
	case db.AuditEndQuarantine:
		switch e.Detail {
		case "release":
			return "Ended the quarantine and chose to release its parked leads into Leads"
		case "discard":
			return "Ended the quarantine and chose to discard its parked leads"
		}
		return "Ended the quarantine; its parked leads, if any, stay parked for review"
	case db.AuditReleaseLeads:
		return "Released " + parkedLeadsWords(e.Detail) + " from quarantine into Leads, as received at that moment"
	case db.AuditDiscardLeads:
		return "Discarded " + parkedLeadsWords(e.Detail) + " from quarantine"
	case db.AuditUserInvite:
		return "Invited " + who + " as " + e.Detail
	case db.AuditUserAccept:
		return who + " accepted the invite and chose a password"
	case db.AuditUserRole:
		return "Changed the role of " + who + ": " + e.Detail
	case db.AuditUserDisable:
		return "Disabled " + who + "; their sessions ended"
	case db.AuditUserEnable:
		return "Enabled " + who
	case db.AuditUserReset:
		return "Reset the sign-in of " + who + ": a new invite link; the old password no longer works"
	}
	return strings.TrimSpace(e.Action + " " + e.Detail)
}

func auditActionLabel(action string) string {
	for _, a := range AuditActions {
		if a.Value == action {
			return a.Label
		}
	}
	return action
}

// parkedLeadsWords says which parked leads an entry is about: its detail is
// one lead's public id, or how many leads.
func parkedLeadsWords(detail string) string {
	switch {
	case detail == "1":
		return "1 lead"
	case detail != "" && strings.Trim(detail, "0123456789") == "":
		return detail + " leads"
	}
	return "lead " + detail
}
