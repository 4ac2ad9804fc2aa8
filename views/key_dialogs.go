package views

import (
	"strconv"

	"keydesk/db"
	"keydesk/keys"
)

// KeyCreatedVM shows a new key and its secret, once.
type KeyCreatedVM struct {
	Page     Page
	Key      db.APIKey
	Secret   string
	Replaced *db.APIKey // the key a roll revoked, if this one replaces it
	// ToKeyPage makes Done open the new key's page instead of closing the
	// modal over the list (after a roll started on the old key's page).
	ToKeyPage bool
}

func (vm KeyCreatedVM) title() string {
	if vm.Replaced != nil {
		return "Key rolled"
	}
	return "Key created"
}

// KeyConfirmVM asks to confirm a revoke or a roll.
type KeyConfirmVM struct {
	Page      Page
	Key       db.APIKey
	Action    string // "revoke", "roll", "pause", "end-tokens", "quarantine" or "end-quarantine"
	BackToKey bool   // opened from the key's page, which the action returns to
	// Parked is how many leads the key has parked (end-quarantine).
	Parked int
	// Roll: what happens to the old key ("revoke" or "retire"), for how long
	// after the new key's first use, the hard deadline, and what is wrong.
	Old, Window, Deadline string
	Error                 string
}

func durationOptions(list []keys.Choice) []Option {
	out := make([]Option, len(list))
	for i, c := range list {
		out[i] = Option{Value: c.Value, Label: c.Label}
	}
	return out
}

// title names the dialog and its confirming button.
func (vm KeyConfirmVM) title() string {
	switch vm.Action {
	case "roll":
		return "Roll key"
	case "quarantine":
		return "Quarantine key"
	case "end-quarantine":
		return "End quarantine"
	case "pause":
		return "Pause key"
	case "end-tokens":
		return "End all tokens"
	}
	return "Revoke key"
}

// parkedCount says how many leads are parked, in words.
func (vm KeyConfirmVM) parkedCount() string {
	switch {
	case vm.Parked == 1:
		return "1 parked lead"
	case vm.Parked > db.MaxParkedCount:
		return "more than " + strconv.Itoa(db.MaxParkedCount) + " parked leads"
	}
	return strconv.Itoa(vm.Parked) + " parked leads"
}

// confirmClass is the confirming button's look: red for what stops a key's
// clients, blue for what they carry on through.
func (vm KeyConfirmVM) confirmClass() string {
	switch vm.Action {
	case "quarantine", "end-tokens":
		return "btn btn-primary"
	}
	return "btn btn-danger"
}

func (vm KeyConfirmVM) cancel() string { return backPath(vm.Key.ID, vm.BackToKey) }
