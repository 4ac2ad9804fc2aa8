package handlers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/views"
)

// What Key health flags, and when.
const (
	unusedFor    = 30 * 24 * time.Hour
	longUnused   = 90 * 24 * time.Hour
	rollAfter    = 365 * 24 * time.Hour
	writesWindow = 90 * 24 * time.Hour
	// A key is failing when, over the last day, it had at least
	// failingMinRequests requests and failingPercent of them failed.
	failingSpan        = 24 * time.Hour
	failingMinRequests = 20
	failingPercent     = 10
)

// keyHealth flags what may be wrong with an active key, each flag with the
// action that clears it. recent, the key's hourly counts of at least the
// last day (the usage page's chart has them), also finds a failing key and
// a read & write key that only wrote; the landing page passes nil (it would
// read every key's 90 days) and finds failing keys with failingFlags.
func (h *Handlers) keyHealth(ctx context.Context, k db.APIKey, now time.Time, recent []db.HourCount) ([]views.HealthFlag, error) {
	if k.Revoked() {
		return nil, nil
	}
	flag := func(text, label, suffix string) views.HealthFlag {
		return views.HealthFlag{KeyName: k.Name, KeyHref: keyHref(k.ID, ""), Text: text, ActionLabel: label, ActionHref: keyHref(k.ID, suffix)}
	}
	var flags []views.HealthFlag
	// A retiring key is on its way out: how it is used no longer matters,
	// only whether its calls fail.
	retiring := k.Retiring()
	if !retiring {
		switch {
		case k.LastUsedAt.IsZero() && now.Sub(k.CreatedAt) > unusedFor:
			flags = append(flags, flag(fmt.Sprintf("Never used since it was created on %s.", k.CreatedAt.UTC().Format("2006-01-02")), "Revoke it", "/revoke"))
		case k.LastUsedAt.IsZero():
			f := flag("Never used yet.", "Send the integrator the developer docs", "")
			f.ActionHref = "/docs"
			flags = append(flags, f)
		case now.Sub(k.LastUsedAt) > longUnused:
			flags = append(flags, flag("Not used in 90 days.", "Revoke it", "/revoke"))
		case now.Sub(k.LastUsedAt) > unusedFor:
			flags = append(flags, flag("Not used in 30 days.", "Revoke it", "/revoke"))
		}
		if now.Sub(k.CreatedAt) > rollAfter {
			flags = append(flags, flag(fmt.Sprintf("Older than a year without a roll (created %s).", k.CreatedAt.UTC().Format("2006-01-02")), "Roll it", "/roll"))
		}
	}
	if recent != nil {
		t := db.KeyTraffic{KeyID: k.ID, Name: k.Name}
		since := now.Add(-failingSpan).UTC().Truncate(time.Hour) // the hours RequestHours would read for the day
		for _, hc := range recent {
			if !hc.Hour.Before(since) {
				t.OK, t.Failed = t.OK+hc.OK, t.Failed+hc.Failed
			}
		}
		if f, flagged, err := h.failingFlag(ctx, t, k.AccountID, now); err != nil {
			return nil, err
		} else if flagged {
			flags = append(flags, f)
		}
	}
	if retiring {
		return flags, nil
	}
	if k.Mode == keys.Live && k.Settings.IPMode == keys.IPOff {
		flags = append(flags, flag("A live key with no IP allowlist: whoever holds its secret can call from any address.",
			"Add an allowlist", "/edit"))
	}
	if recent != nil && k.Type == db.Integration {
		reads, writes, err := h.db.ReadsAndWrites(ctx, k.AccountID, k.ID, now.Add(-writesWindow))
		if err != nil {
			return nil, err
		}
		if writes > 0 && reads == 0 {
			f := flag("A read & write key that has only written in 90 days: a digital-requests key would do.", "Create a digital-requests key", "")
			f.ActionHref = "/settings/integrations/keys/new?type=digital_requests"
			flags = append(flags, f)
		}
	}
	return flags, nil
}

// failingFor is how long the landing page reuses an account's failing-key
// flags: they count a day of requests, and reading every active key's day
// (about 11 ms at 1,000 busy keys) on each landing page would cost more than
// the rest of the page. A key's own usage page always reads its day afresh.
const failingFor = time.Minute

// failingCache keeps each account's failing-key flags for failingFor, per instance.
type failingCache struct {
	mu sync.Mutex
	m  map[int64]failingEntry
}

type failingEntry struct {
	at    time.Time
	flags []views.HealthFlag
}

// failingFlags are the flags of the account's failing keys, most failures
// first, at most limit, for the landing page, through the cache.
func (h *Handlers) failingFlags(ctx context.Context, accountID int64, now time.Time, limit int) ([]views.HealthFlag, error) {
	h.failing.mu.Lock()
	e, ok := h.failing.m[accountID]
	h.failing.mu.Unlock()
	if ok && now.Sub(e.at) < failingFor && !now.Before(e.at) {
		return e.flags, nil
	}
	failing, err := h.db.FailingKeys(ctx, accountID, now.Add(-failingSpan), failingMinRequests, failingPercent, limit)
	if err != nil {
		return nil, err
	}
	var flags []views.HealthFlag
	for _, t := range failing {
		f, _, err := h.failingFlag(ctx, t, accountID, now)
		if err != nil {
			return nil, err
		}
		flags = append(flags, f)
	}
	h.failing.mu.Lock()
	defer h.failing.mu.Unlock()
	if h.failing.m == nil {
		h.failing.m = map[int64]failingEntry{}
	}
	for id, old := range h.failing.m { // what has expired goes, so the map stays as small as the accounts in use
		if now.Sub(old.at) >= failingFor {
			delete(h.failing.m, id)
		}
	}
	h.failing.m[accountID] = failingEntry{at: now, flags: flags}
	return flags, nil
}

// failingFlag flags a key whose requests of the last day failed
// failingPercent of the time or more, naming the commonest failure and the
// page that explains it: the signature debugger for a credential that does
// not check, else the usage page's failed requests.
func (h *Handlers) failingFlag(ctx context.Context, t db.KeyTraffic, accountID int64, now time.Time) (views.HealthFlag, bool, error) {
	total := t.OK + t.Failed
	if total < failingMinRequests || 100*t.Failed < failingPercent*total {
		return views.HealthFlag{}, false, nil
	}
	counts, err := h.db.FailureCounts(ctx, accountID, t.KeyID, now.Add(-failingSpan), now)
	if err != nil {
		return views.HealthFlag{}, false, err
	}
	top := topRows(counts, 1)
	f := views.HealthFlag{KeyName: t.Name, KeyHref: keyHref(t.KeyID, ""),
		Text: fmt.Sprintf("%s of its %s requests in the last 24 hours failed (%.1f %%).", views.FormatCount(t.Failed),
			views.FormatCount(total), 100*float64(t.Failed)/float64(total)),
		ActionLabel: "See the failed requests", ActionHref: keyHref(t.KeyID, "/usage?outcome="+db.OutcomeFailed)}
	if len(top) == 1 {
		f.Text = strings.TrimSuffix(f.Text, ".") + ", most with " + top[0].Label + "."
		switch top[0].Label {
		case "invalid_signature", "stale_timestamp", "invalid_timestamp", "invalid_client":
			f.ActionLabel, f.ActionHref = "Open the signature debugger", keyHref(t.KeyID, "/signature-failures")
		}
	}
	return f, true, nil
}

// keyHref is the path of a key's page or action.
func keyHref(id int64, suffix string) string {
	return fmt.Sprintf("/settings/integrations/keys/%d%s", id, suffix)
}
