package views

import (
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
	Action    string // "revoke" or "roll"
	BackToKey bool   // opened from the key's page, which the action returns to
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

func (vm KeyConfirmVM) verb() string {
	if vm.Action == "roll" {
		return "Roll"
	}
	return "Revoke"
}

func (vm KeyConfirmVM) cancel() string { return backPath(vm.Key.ID, vm.BackToKey) }
