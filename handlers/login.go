package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

const badLogin = "That email and password do not match an active account. Check both and try again."

func (h *Handlers) loginShow(c echo.Context) error {
	next := web.SafeNext(c.QueryParam("next"), "")
	if _, ok := web.CurrentViewer(c); ok {
		return c.Redirect(http.StatusSeeOther, web.SafeNext(next, "/"))
	}
	return web.Render(c, http.StatusOK, views.Login(views.LoginVM{CSRF: web.CSRFToken(c), Next: next}))
}

func (h *Handlers) loginSubmit(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	vm := views.LoginVM{Email: email, Next: web.SafeNext(c.FormValue("next"), "")}
	render := func(status int, msg string) error {
		vm.CSRF, vm.Error = web.CSRFToken(c), msg
		return web.Render(c, status, views.Login(vm))
	}
	if email == "" || password == "" {
		return render(http.StatusUnprocessableEntity, "Enter your email and your password.")
	}
	addrKey, emailKey := "ip:"+c.RealIP(), "email:"+strings.ToLower(email)
	for _, t := range []struct {
		th  *web.Throttle
		key string
	}{{h.loginByAddr, addrKey}, {h.loginByEmail, emailKey}} {
		if blocked, wait := t.th.Blocked(t.key); blocked {
			mins := int(math.Ceil(wait.Minutes()))
			c.Response().Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
			return render(http.StatusTooManyRequests,
				fmt.Sprintf("Too many failed sign-ins. Wait %d minute(s) and try again.", max(mins, 1)))
		}
	}
	u, err := h.db.UserByEmail(c.Request().Context(), email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	// A password is always checked, so an unknown or disabled account costs the same time.
	ok := web.CheckPassword(u.PasswordHash, password) && err == nil && !u.Disabled
	if !ok {
		h.loginByAddr.Fail(addrKey)
		h.loginByEmail.Fail(emailKey)
		return render(http.StatusUnauthorized, badLogin)
	}
	h.loginByEmail.Reset(emailKey)
	if err := h.sessions.SignIn(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, web.SafeNext(vm.Next, "/"))
}

func (h *Handlers) logout(c echo.Context) error {
	if err := h.sessions.SignOut(c); err != nil {
		return err
	}
	return web.Redirect(c, "/login")
}
