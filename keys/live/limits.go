package live

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"keydesk/keys"
)

// guard is what the live state holds per key for its allowlist and rate
// limits: the allowlist parsed once, and the counters of the current windows.
// The counters outlive a reload of the key (an edit), so an edit does not
// reset them.
type guard struct {
	allow []netip.Prefix

	mu       sync.Mutex
	minute   int64 // the Unix minute the request count is of
	requests int64
	day      int64 // the Unix day (UTC) the lead count is of
	leads    int64
}

// newGuard parses k's allowlist; counters come over from the key's previous
// guard, if any.
func newGuard(k *Key, old *guard) *guard {
	g := &guard{}
	if k.Settings.IPMode != keys.IPOff {
		g.allow, _ = keys.ParseAllowlist(k.Settings.IPAllow)
	}
	if old != nil {
		old.mu.Lock()
		g.minute, g.requests, g.day, g.leads = old.minute, old.requests, old.day, old.leads
		old.mu.Unlock()
	}
	return g
}

func (g *guard) allows(a netip.Addr) bool {
	for _, p := range g.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// share is this instance's part of a limit: the limit over the live instances, rounded up.
func (s *State) share(limit int64) int64 {
	n := int64(s.instances.Load())
	if n < 1 {
		n = 1
	}
	return (limit + n - 1) / n
}

// Instances is how many live instances the limits are shared between.
func (s *State) Instances() int {
	return max(int(s.instances.Load()), 1)
}

// guardCall applies k's allowlist and rate limit to a call from addr at now.
func (s *State) guardCall(k *Key, addr string, now time.Time) error {
	set := &k.Settings
	if set.IPMode == keys.IPOff && set.RateLimit == 0 {
		return nil
	}
	if set.IPMode != keys.IPOff {
		a, err := netip.ParseAddr(addr)
		a = a.Unmap()
		if err != nil || !k.guard.allows(a) {
			if set.IPMode == keys.IPEnforce {
				return &Refusal{Code: "ip_not_allowed", Status: http.StatusForbidden,
					Message: "This API key may be used only from its allowed IP addresses, and " + addr +
						" is not one of them: ask your admin to add it to the key's allowlist."}
			}
			if err == nil {
				s.reportOutside(k, a, now)
			}
		}
	}
	if limit := set.RateLimit; limit > 0 {
		minute := now.Unix() / 60
		g := k.guard
		g.mu.Lock()
		if g.minute != minute {
			g.minute, g.requests = minute, 0
		}
		g.requests++
		over := g.requests > s.share(limit)
		g.mu.Unlock()
		if over {
			wait := 60 - now.Unix()%60
			return &Refusal{Code: "rate_limited", Status: http.StatusTooManyRequests, RetryAfter: wait,
				Policy: fmt.Sprintf(`"minute";q=%d;w=60`, limit), Limit: fmt.Sprintf(`"minute";r=0;t=%d`, wait),
				Message: fmt.Sprintf("This API key may make %d requests a minute; wait %d s and try again.", limit, wait)}
		}
	}
	return nil
}

// reportOutside hands a call from outside a Report-only allowlist to Options.Report.
func (s *State) reportOutside(k *Key, a netip.Addr, now time.Time) {
	if s.report != nil {
		s.report(k.ID, a, now)
	}
}

// Lead counts one lead of k against its daily lead limit, refusing it
// (lead_quota_exceeded) when this instance's share of the day is used up.
func (s *State) Lead(k *Key) error {
	limit := k.Settings.DailyLeadLimit
	if limit <= 0 {
		return nil
	}
	now := s.now()
	day := now.Unix() / 86400
	g := k.guard
	g.mu.Lock()
	if g.day != day {
		g.day, g.leads = day, 0
	}
	g.leads++
	over := g.leads > s.share(limit)
	g.mu.Unlock()
	if !over {
		return nil
	}
	wait := 86400 - now.Unix()%86400
	return &Refusal{Code: "lead_quota_exceeded", Status: http.StatusTooManyRequests, RetryAfter: wait,
		Policy: fmt.Sprintf(`"day";q=%d;w=86400`, limit), Limit: fmt.Sprintf(`"day";r=0;t=%d`, wait),
		Message: fmt.Sprintf("This API key may send %d leads a day (UTC); the next day starts in %s.", limit,
			(time.Duration(wait) * time.Second).String())}
}

// countInstances refreshes how many instances share the limits.
func (s *State) countInstances(ctx context.Context) error {
	n, err := s.store.LiveInstances(ctx, time.Now().Add(-staleAfter))
	if err != nil {
		return err
	}
	s.instances.Store(int32(max(n, 1)))
	return nil
}

// Headers are the response headers of a refusal over a limit (Retry-After
// and the IETF RateLimit-Policy / RateLimit fields), as name, value pairs.
func (r *Refusal) Headers() [][2]string {
	if r.RetryAfter == 0 {
		return nil
	}
	return [][2]string{{"Retry-After", strconv.FormatInt(r.RetryAfter, 10)}, {"RateLimit-Policy", r.Policy}, {"RateLimit", r.Limit}}
}
