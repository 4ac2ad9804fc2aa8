package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

// inviteShow is the page an invite link opens: choose a password.
func (h *Handlers) inviteShow(c echo.Context) error {
	return h.renderInvite(c, http.StatusOK, "")
}

func (h *Handlers) renderInvite(c echo.Context, status int, problem string) error {
	token := c.Param("token")
	vm := views.InviteAcceptVM{CSRF: web.CSRFToken(c), Action: "/invite/" + token, Error: problem}
	u, err := h.db.InviteUserByToken(c.Request().Context(), token, h.now())
	switch {
	case errors.Is(err, db.ErrInviteInvalid):
		vm.Invalid, status = true, http.StatusNotFound
	case err != nil:
		return err
	default:
		acc, err := h.db.Account(c.Request().Context(), u.AccountID)
		if err != nil {
			return err
		}
		vm.Email, vm.AccountName = u.Email, acc.Name
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, status, views.InviteAccept(vm))
}

// inviteAccept sets the invited person's password, uses the link up and signs them in.
func (h *Handlers) inviteAccept(c echo.Context) error {
	password := c.FormValue("password")
	if msg := web.NewPasswordProblem(password); msg != "" {
		return h.renderInvite(c, http.StatusUnprocessableEntity, "Please "+msg+".")
	}
	if password != c.FormValue("password2") {
		return h.renderInvite(c, http.StatusUnprocessableEntity, "The two passwords differ. Type the same one twice.")
	}
	hash, err := web.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := h.db.AcceptInvite(c.Request().Context(), c.Param("token"), hash, c.RealIP(), h.now())
	if errors.Is(err, db.ErrInviteInvalid) {
		return h.renderInvite(c, http.StatusNotFound, "")
	}
	if err != nil {
		return err
	}
	if err := h.sessions.SignIn(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
