package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/views"
	"keydesk/web"
)

// keyEventsShown is how many of a key's audit events its page lists.
const keyEventsShown = 10

// keyShow is the admin's page of a key: settings, credentials, actions, events.
func (h *Handlers) keyShow(c echo.Context) error { return h.renderKeyPage(c, true) }

// keyShowReadOnly is the same page for everyone, without actions or events.
func (h *Handlers) keyShowReadOnly(c echo.Context) error { return h.renderKeyPage(c, false) }

func (h *Handlers) renderKeyPage(c echo.Context, admin bool) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx, acc := c.Request().Context(), viewer(c).Account
	k, err := h.db.APIKey(ctx, acc.ID, id)
	if err != nil {
		return notFoundAs404(err)
	}
	active := "keys"
	if admin {
		active = "integrations"
	}
	vm := views.KeyPageVM{Page: page(c, k.Name, active), Key: k, Admin: admin, Instances: h.live.Instances()}
	if k.Settings.IPMode != keys.IPOff {
		if vm.IPReports, err = h.db.IPReports(ctx, acc.ID, k.ID, h.now().AddDate(0, 0, -db.IPReportDays)); err != nil {
			return err
		}
	}
	if admin {
		if vm.Events, err = h.db.KeyAuditEvents(ctx, acc.ID, k.ID, keyEventsShown); err != nil {
			return err
		}
		if k.Type == db.DigitalRequests {
			if vm.Parked, err = h.db.CountParked(ctx, acc.ID, k.ID); err != nil {
				return err
			}
		}
	}
	return web.Render(c, http.StatusOK, views.KeyPage(vm))
}
