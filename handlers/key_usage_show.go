package handlers

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

// usageRange is a range the usage chart may cover.
type usageRange struct {
	value, label string
	span         time.Duration
}

// usageRanges are the chart's ranges, the first the default.
var usageRanges = []usageRange{
	{"24h", "24 hours", 24 * time.Hour},
	{"7d", "7 days", 7 * 24 * time.Hour},
	{"30d", "30 days", 30 * 24 * time.Hour},
}

// usageQuery is the usage page's query string, checked.
type usageQuery struct {
	usageRange
	outcome string
	before  db.RequestCursor
}

// readUsageQuery checks range, outcome and before; anything not allowed is a 400 page.
func readUsageQuery(c echo.Context) (usageQuery, error) {
	q := usageQuery{usageRange: usageRanges[0]}
	if r := c.QueryParam("range"); r != "" {
		i := slices.IndexFunc(usageRanges, func(u usageRange) bool { return u.value == r })
		if i < 0 {
			return q, echo.NewHTTPError(http.StatusBadRequest, "The chart range must be 24h, 7d or 30d.")
		}
		q.usageRange = usageRanges[i]
	}
	if o := c.QueryParam("outcome"); o != "" {
		if o != db.OutcomeFailed && !db.KnownOutcome(o) {
			return q, echo.NewHTTPError(http.StatusBadRequest, "The outcome filter must be one of the outcomes in its list.")
		}
		q.outcome = o
	}
	if b := c.QueryParam("before"); b != "" {
		at, id, ok := strings.Cut(b, ".")
		q.before.At, _ = strconv.ParseInt(at, 10, 64)
		q.before.ID, _ = strconv.ParseInt(id, 10, 64)
		if !ok || q.before.At <= 0 || q.before.ID <= 0 {
			return q, echo.NewHTTPError(http.StatusBadRequest, "That page of requests does not exist: go back to the newest requests.")
		}
	}
	return q, nil
}

// accountKey loads the :id key of the viewer's account, revoked or not; another account's is a 404.
func (h *Handlers) accountKey(c echo.Context) (db.APIKey, error) {
	id, err := pathID(c)
	if err != nil {
		return db.APIKey{}, err
	}
	k, err := h.db.APIKey(c.Request().Context(), viewer(c).Account.ID, id)
	return k, notFoundAs404(err)
}

// keyUsageShow is a key's usage page (admin).
func (h *Handlers) keyUsageShow(c echo.Context) error {
	k, err := h.accountKey(c)
	if err != nil {
		return err
	}
	q, err := readUsageQuery(c)
	if err != nil {
		return err
	}
	p := page(c, "Usage of "+k.Name, "integrations")
	usage, err := h.keyUsage(c.Request().Context(), k, q)
	if err != nil {
		return err
	}
	usage.CSRF = p.CSRF
	return web.Render(c, http.StatusOK, views.KeyUsagePage(views.KeyUsagePageVM{Page: p, Usage: usage}))
}

// keyUsage gathers a key's usage for the panel.
func (h *Handlers) keyUsage(ctx context.Context, k db.APIKey, q usageQuery) (views.KeyUsageVM, error) {
	now := h.now()
	vm := views.KeyUsageVM{KeyID: k.ID, KeyName: k.Name, PublicKey: k.PublicKey, Revoked: k.Revoked(),
		Range: q.value, Outcome: q.outcome, RetentionDays: int(h.requests.Keep() / (24 * time.Hour))}
	for _, r := range usageRanges {
		vm.Ranges = append(vm.Ranges, views.Choice{Value: r.value, Label: r.label})
	}
	vm.Outcomes = []views.Choice{{Value: "", Label: "All"}, {Value: db.OutcomeFailed, Label: "All failures"}}
	for _, o := range db.Outcomes() {
		vm.Outcomes = append(vm.Outcomes, views.Choice{Value: o, Label: o})
	}

	hours, err := h.db.RequestHours(ctx, k.AccountID, k.ID, now.Add(-q.span), now)
	if err != nil {
		return vm, err
	}
	vm.Chart = hourlyChart("usage-chart", "Requests per hour to "+k.Name+", last "+q.label, hours, now, q.span)
	failures, err := h.db.FailureCounts(ctx, k.AccountID, k.ID, now.Add(-q.span), now)
	if err != nil {
		return vm, err
	}
	vm.TopFailures = topRows(failures, 5)

	since := now.Add(-min(q.span, h.requests.Keep()))
	addrs, err := h.db.TopAddresses(ctx, k.AccountID, k.ID, since, now, h.requests.Keep(), 5)
	if err != nil {
		return vm, err
	}
	for _, a := range addrs {
		label := "unknown"
		if a.Addr.IsValid() {
			label = a.Addr.String()
		}
		vm.TopAddresses = append(vm.TopAddresses, views.CountRow{Label: label, N: a.N, Failed: a.Failed})
	}

	rows, next, err := h.db.RecentRequests(ctx, k.AccountID, k.ID, db.RequestFilter{Outcome: q.outcome, Before: q.before, Limit: 50})
	if err != nil {
		return vm, err
	}
	for _, r := range rows {
		vm.Requests = append(vm.Requests, requestRow(r))
	}
	if next != (db.RequestCursor{}) {
		vm.NextCursor = strconv.FormatInt(next.At, 10) + "." + strconv.FormatInt(next.ID, 10)
	}

	if vm.TokensIssued, err = h.db.CountRequests(ctx, k.AccountID, k.ID, db.RouteToken, db.OutcomeOK, now.Add(-accessTokenLifetime)); err != nil {
		return vm, err
	}
	fails, err := h.db.RequestFailures(ctx, k.AccountID, k.ID, debuggerAttempts)
	if err != nil {
		return vm, err
	}
	vm.FailedSigned = len(fails)
	health, err := h.keyHealth(ctx, k, now, hours) // every range covers the day Key health counts
	vm.Health = health
	return vm, err
}

// hourlyChart is one bar per hour over span up to now, from hourly counts.
func hourlyChart(id, title string, hours []db.HourCount, now time.Time, span time.Duration) views.UsageChartVM {
	n := int(span / time.Hour)
	first := now.UTC().Truncate(time.Hour).Add(-time.Duration(n-1) * time.Hour)
	bars := make([]views.ChartBar, n)
	for i := range bars {
		bars[i].Start = first.Add(time.Duration(i) * time.Hour)
	}
	for _, hc := range hours {
		i := int(hc.Hour.Sub(first) / time.Hour)
		if i < 0 || i >= n {
			continue
		}
		bars[i].OK += hc.OK
		bars[i].Failed += hc.Failed
	}
	return views.UsageChartVM{ID: id, Title: title, Bars: bars}
}

// topRows are the largest counts, largest first.
func topRows(counts map[string]int64, n int) []views.CountRow {
	var rows []views.CountRow
	for label, c := range counts {
		rows = append(rows, views.CountRow{Label: label, N: c})
	}
	slices.SortFunc(rows, func(a, b views.CountRow) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Label, b.Label))
	})
	return rows[:min(n, len(rows))]
}

func requestRow(r db.LoggedRequest) views.RequestRow {
	addr := ""
	if r.Addr.IsValid() {
		addr = r.Addr.String()
	}
	return views.RequestRow{At: r.At.UTC().Format("2006-01-02 15:04:05"), Route: r.Route, Status: r.Status,
		Outcome: r.Outcome, OK: r.Outcome == db.OutcomeOK, Auth: r.Auth, Addr: addr, Agent: r.UserAgent,
		Latency: strconv.FormatFloat(float64(r.Latency.Microseconds())/1000, 'f', 1, 64)}
}
