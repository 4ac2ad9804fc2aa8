package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	ctx := c.Request().Context()
	attempt, err := h.signIns.Begin(ctx, email, c.RealIP())
	if wait, throttled := web.IsThrottled(err); throttled {
		h.metrics.SignInThrottled.Inc()
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		return render(http.StatusTooManyRequests, throttledMessage(wait))
	}
	if err != nil {
		return err
	}
	u, err := h.db.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		attempt.Checked()
		return errors.Join(err, attempt.Failed(context.WithoutCancel(ctx)))
	}
	// A password is always checked, so an unknown or disabled account costs the same time.
	ok := web.CheckPassword(u.PasswordHash, password) && err == nil && !u.Disabled
	attempt.Checked()
	if !ok {
		h.metrics.SignInFailures.Inc()
		if err := attempt.Failed(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		return render(http.StatusUnauthorized, badLogin)
	}
	if err := attempt.Succeeded(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	if err := h.sessions.SignIn(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, web.SafeNext(vm.Next, "/"))
}

// throttledMessage says how long to wait, in seconds when it is under a minute.
func throttledMessage(wait time.Duration) string {
	if wait < time.Minute {
		return "Too many sign-in attempts. Wait " + plural(max(int(math.Ceil(wait.Seconds())), 1), "second") + " and try again."
	}
	return "Too many failed sign-ins. Wait " + plural(int(math.Ceil(wait.Minutes())), "minute") + " and try again."
}

// plural says n of unit: "1 second", "15 minutes".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func (h *Handlers) logout(c echo.Context) error {
	if err := h.sessions.SignOut(c); err != nil {
		return err
	}
	return web.Redirect(c, "/login")
}
