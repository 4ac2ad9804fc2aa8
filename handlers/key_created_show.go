package handlers

import (
	"crypto/rand"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

// revealHandleLife is how long the page of a new secret may take to open.
const revealHandleLife = 10 * time.Minute

const shownOnce = "The secret of this key was shown once, right after it was made. " +
	"If you need it again, use Reveal: it is written to the audit log."

// showNewKey answers a new or rolled pair: in the modal for htmx; otherwise
// by a redirect to a page that shows the secret once, so that a reload sends
// no form again and finds the secret gone. The session holds only a handle.
func (h *Handlers) showNewKey(c echo.Context, vm views.KeyCreatedVM) error {
	if web.IsHTMX(c) {
		c.Response().Header().Set(web.HXTrigger, `{"`+views.KeysChanged+`":""}`)
		return web.Render(c, http.StatusCreated, views.KeyCreatedModal(vm))
	}
	r := db.RevealHandle{UserID: viewer(c).User.ID, KeyID: vm.Key.ID, ExpiresAt: h.now().Add(revealHandleLife)}
	if vm.Replaced != nil {
		r.ReplacedKeyID = vm.Replaced.ID
	}
	handle := rand.Text()
	if err := h.db.CreateRevealHandle(c.Request().Context(), handle, r, h.now()); err != nil {
		return err
	}
	if err := web.SetRevealHandle(c, handle); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, keyPagePath(vm.Key.ID)+"/created")
}

// keyCreatedShow is the page of a new secret, opened once through the
// session's handle; any later visit goes to the key's page.
func (h *Handlers) keyCreatedShow(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx, v := c.Request().Context(), viewer(c)
	handle, err := web.TakeRevealHandle(c)
	if err != nil {
		return err
	}
	var r db.RevealHandle
	if handle != "" {
		r, err = h.db.TakeRevealHandle(ctx, handle, v.User.ID, h.now())
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
	}
	k, kerr := h.db.APIKey(ctx, v.Account.ID, id)
	if kerr != nil {
		return notFoundAs404(kerr)
	}
	if handle == "" || err != nil || r.KeyID != id || k.Revoked() {
		return h.redirectWithNotice(c, keyPagePath(id), shownOnce)
	}
	secret, err := h.sealer.Open(k.SecretSealed, k.PublicKey)
	if err != nil {
		return err
	}
	vm := views.KeyCreatedVM{Page: page(c, "Key created", "integrations"), Key: k, Secret: secret}
	if r.ReplacedKeyID != 0 {
		old, err := h.db.APIKey(ctx, v.Account.ID, r.ReplacedKeyID)
		if err != nil {
			return notFoundAs404(err)
		}
		vm.Replaced, vm.Page.Title = &old, "Key rolled"
	}
	return web.Render(c, http.StatusOK, views.KeyCreatedPage(vm))
}

// redirectWithNotice goes to a page that opens with a one-time notice
// (htmx follows with a whole page load); the notice must never carry a secret.
func (h *Handlers) redirectWithNotice(c echo.Context, to, notice string) error {
	if err := web.Flash(c, notice); err != nil {
		return err
	}
	return web.Redirect(c, to)
}

func keyPagePath(id int64) string { return views.KeyPagePath(id, true) }
