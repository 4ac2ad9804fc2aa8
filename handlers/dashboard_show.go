package handlers

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

// dashboardShow is the landing page: the account's keys and leads in figures,
// each a link to the list it counts, and what happened last.
func (h *Handlers) dashboardShow(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	now := h.now()
	vm := views.DashboardVM{Page: page(c, "Dashboard", "dashboard"), Now: now}
	var err error
	if vm.Keys, err = h.db.CountKeys(ctx, v.Account.ID, now.AddDate(0, 0, -30)); err != nil {
		return err
	}
	if vm.Leads, err = h.db.CountLeads(ctx, v.Account.ID, now); err != nil {
		return err
	}
	if vm.RecentLeads, err = h.db.Leads(ctx, v.Account.ID, db.LeadFilter{PageFilter: db.PageFilter{Limit: 5}}); err != nil {
		return err
	}
	if v.User.IsAdmin() {
		if vm.RecentEvents, err = h.db.AuditEvents(ctx, v.Account.ID, db.AuditFilter{Limit: 5}); err != nil {
			return err
		}
		if vm.Usage, err = h.accountUsage(ctx, v.Account.ID, now); err != nil {
			return err
		}
	}
	return web.Render(c, http.StatusOK, views.Dashboard(vm))
}

// accountUsage is every key's traffic over the last 7 days and the health
// flags of the account's keys, for the landing page.
func (h *Handlers) accountUsage(ctx context.Context, accountID int64, now time.Time) (*views.AccountUsageVM, error) {
	const shown = 8
	// Only keys that may carry a flag, and no more than can fill the card
	// (a few spare: a key first used in the last seconds is still unused in
	// the table, and carries no flag once its last use is known).
	ks, err := h.db.KeysForHealth(ctx, accountID, now.Add(-unusedFor), now.Add(-rollAfter), 2*shown)
	if err != nil {
		return nil, err
	}
	// Failing keys first: they are what is going wrong now.
	failing, err := h.failingFlags(ctx, accountID, now, shown)
	if err != nil {
		return nil, err
	}
	health := slices.Clone(failing) // the cache's slice is shared
	for _, k := range ks {
		flags, err := h.keyHealth(ctx, k, now, nil)
		if err != nil {
			return nil, err
		}
		health = append(health, flags...)
	}
	span := 7 * 24 * time.Hour
	hours, err := h.db.RequestHours(ctx, accountID, 0, now.Add(-span), now)
	if err != nil {
		return nil, err
	}
	return &views.AccountUsageVM{Chart: hourlyChart("account-chart", "API requests per hour to every key, last 7 days", hours, now, span),
		Health: health[:min(len(health), shown)]}, nil
}
