package handlers

import (
	"context"
	"fmt"
	"time"

	"keydesk/db"
	"keydesk/views"
)

// What Key health flags, and when.
const (
	unusedFor    = 30 * 24 * time.Hour
	longUnused   = 90 * 24 * time.Hour
	rollAfter    = 365 * 24 * time.Hour
	writesWindow = 90 * 24 * time.Hour
)

// keyHealth flags what may be wrong with an active key, each flag with the
// action that clears it. withTraffic also reads the key's hourly counts to
// find a read & write key that only wrote (the landing page leaves it out:
// it would read every key's 90 days).
func (h *Handlers) keyHealth(ctx context.Context, k db.APIKey, now time.Time, withTraffic bool) ([]views.HealthFlag, error) {
	if k.Revoked() {
		return nil, nil
	}
	flag := func(text, label, suffix string) views.HealthFlag {
		return views.HealthFlag{KeyName: k.Name, Text: text, ActionLabel: label, ActionHref: keyHref(k.ID, suffix)}
	}
	var flags []views.HealthFlag
	switch {
	case k.LastUsedAt.IsZero() && now.Sub(k.CreatedAt) > unusedFor:
		flags = append(flags, flag(fmt.Sprintf("Never used since it was created on %s.", k.CreatedAt.UTC().Format("2006-01-02")), "Revoke it", "/revoke"))
	case k.LastUsedAt.IsZero():
		flags = append(flags, views.HealthFlag{KeyName: k.Name, Text: "Never used yet.", ActionLabel: "Send the integrator the developer docs", ActionHref: "/docs"})
	case now.Sub(k.LastUsedAt) > longUnused:
		flags = append(flags, flag("Not used in 90 days.", "Revoke it", "/revoke"))
	case now.Sub(k.LastUsedAt) > unusedFor:
		flags = append(flags, flag("Not used in 30 days.", "Revoke it", "/revoke"))
	}
	if now.Sub(k.CreatedAt) > rollAfter {
		flags = append(flags, flag(fmt.Sprintf("Older than a year without a roll (created %s).", k.CreatedAt.UTC().Format("2006-01-02")), "Roll it", "/roll"))
	}
	if withTraffic && k.Type == db.Integration {
		reads, writes, err := h.db.ReadsAndWrites(ctx, k.AccountID, k.ID, now.Add(-writesWindow))
		if err != nil {
			return nil, err
		}
		if writes > 0 && reads == 0 {
			flags = append(flags, views.HealthFlag{KeyName: k.Name,
				Text:        "A read & write key that has only written in 90 days: a digital-requests key would do.",
				ActionLabel: "Create a digital-requests key", ActionHref: "/settings/integrations/keys/new?type=digital_requests"})
		}
	}
	return flags, nil
}

// keyHref is the path of a key's page or action.
func keyHref(id int64, suffix string) string {
	return fmt.Sprintf("/settings/integrations/keys/%d%s", id, suffix)
}
