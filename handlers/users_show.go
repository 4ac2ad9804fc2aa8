package handlers

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/views"
	"keydesk/web"
)

// usersShow is Settings › Users; ?done= names the change just made, for its notice.
func (h *Handlers) usersShow(c echo.Context) error {
	vm := views.UsersVM{Invite: views.InviteForm{Role: db.RoleDealer}}
	if id, err := queryID(c, "user"); err == nil && id != 0 {
		if u, err := h.db.AccountUser(c.Request().Context(), viewer(c).Account.ID, id); err == nil {
			vm.Notice = doneNotice(c.QueryParam("done"), u)
		}
	}
	return h.renderUsers(c, http.StatusOK, vm)
}

func doneNotice(done string, u db.User) string {
	switch done {
	case "role":
		return u.Email + " is now " + u.Role + ", from their next request."
	case "disable":
		return u.Email + " is disabled; their sessions have ended."
	case "enable":
		return u.Email + " can sign in again."
	}
	return ""
}

func (h *Handlers) renderUsers(c echo.Context, status int, vm views.UsersVM) error {
	v := viewer(c)
	people, err := h.db.People(c.Request().Context(), v.Account.ID, h.now())
	if err != nil {
		return err
	}
	vm.Page, vm.Now, vm.People, vm.SelfID = page(c, "Users", "users"), h.now(), people, v.User.ID
	return web.Render(c, status, views.Users(vm))
}

// userInvite adds a person and shows their invite link, once.
func (h *Handlers) userInvite(c echo.Context) error {
	f := views.InviteForm{Email: strings.TrimSpace(c.FormValue("email")), Role: c.FormValue("role")}
	if f.Role != db.RoleAdmin {
		f.Role = db.RoleDealer
	}
	if addr, err := mail.ParseAddress(f.Email); err != nil || addr.Address != f.Email || len(f.Email) > 254 {
		f.Error = "Enter an email address, such as pat@example.com."
		return h.renderUsers(c, http.StatusUnprocessableEntity, views.UsersVM{Invite: f})
	}
	token := web.NewToken()
	u, err := h.db.InviteUser(c.Request().Context(), viewer(c).Account.ID, f.Email, f.Role, token, actor(c), h.now())
	if errors.Is(err, db.ErrDuplicate) {
		f.Error = "Someone with this email already has a keydesk sign-in."
		return h.renderUsers(c, http.StatusUnprocessableEntity, views.UsersVM{Invite: f})
	}
	if err != nil {
		return err
	}
	return h.renderInviteLink(c, u, token, false)
}

func (h *Handlers) renderInviteLink(c echo.Context, u db.User, token string, reset bool) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, http.StatusOK, views.InviteLink(views.InviteLinkVM{
		Page: page(c, "Invite link", "users"), Email: u.Email, URL: h.publicURL + "/invite/" + token,
		Expires: h.now().Add(db.InviteTTL), Reset: reset}))
}

// userRole, userDisable and userEnable change a person; the change counts
// from their next request, since every request reads the user afresh.
func (h *Handlers) userRole(c echo.Context) error {
	role := c.FormValue("role")
	if role != db.RoleAdmin && role != db.RoleDealer {
		return echo.NewHTTPError(http.StatusBadRequest, "A role is admin or dealer.")
	}
	return h.userChange(c, "role", func(id int64) (db.User, error) {
		return h.db.ChangeUserRole(c.Request().Context(), viewer(c).Account.ID, id, role, actor(c), h.now())
	})
}

func (h *Handlers) userDisable(c echo.Context) error {
	if id, err := pathID(c); err == nil && id == viewer(c).User.ID {
		return h.renderUsers(c, http.StatusConflict, views.UsersVM{Error: "You cannot disable yourself: another admin can."})
	}
	return h.userChange(c, "disable", func(id int64) (db.User, error) {
		return h.db.ChangeUserDisabled(c.Request().Context(), viewer(c).Account.ID, id, true, actor(c), h.now())
	})
}

func (h *Handlers) userEnable(c echo.Context) error {
	return h.userChange(c, "enable", func(id int64) (db.User, error) {
		return h.db.ChangeUserDisabled(c.Request().Context(), viewer(c).Account.ID, id, false, actor(c), h.now())
	})
}

func (h *Handlers) userChange(c echo.Context, done string, change func(id int64) (db.User, error)) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := change(id)
	if errors.Is(err, db.ErrLastAdmin) {
		return h.renderUsers(c, http.StatusConflict, views.UsersVM{
			Error: u.Email + " is the account's last active admin. Make someone else an admin first."})
	}
	if err != nil {
		return userNotFoundAs404(err)
	}
	return c.Redirect(http.StatusSeeOther, "/settings/users?done="+done+"&user="+idParam(u.ID))
}

// userDisableConfirm asks before a person is signed out everywhere and locked out.
func (h *Handlers) userDisableConfirm(c echo.Context) error {
	return h.userConfirm(c, func(u db.User) templ.Component {
		return views.UserDisable(views.UserConfirmVM{Page: page(c, "Disable "+u.Email, "users"), Person: u})
	})
}

func (h *Handlers) userResetConfirm(c echo.Context) error {
	return h.userConfirm(c, func(u db.User) templ.Component {
		return views.UserReset(views.UserConfirmVM{Page: page(c, "Reset sign-in", "users"), Person: u})
	})
}

// userConfirm shows the confirmation ask makes for the path's person of the
// viewer's account (another account's is a 404).
func (h *Handlers) userConfirm(c echo.Context, ask func(db.User) templ.Component) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := h.db.AccountUser(c.Request().Context(), viewer(c).Account.ID, id)
	if err != nil {
		return userNotFoundAs404(err)
	}
	return web.Render(c, http.StatusOK, ask(u))
}

// userReset ends a person's password and sessions and shows a new invite link, once.
func (h *Handlers) userReset(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	token := web.NewToken()
	u, err := h.db.ResetSignIn(c.Request().Context(), viewer(c).Account.ID, id, token, actor(c), h.now())
	if errors.Is(err, db.ErrLastAdmin) {
		return h.renderUsers(c, http.StatusConflict, views.UsersVM{
			Error: u.Email + " is the account's last active admin: their sign-in cannot be reset. Make someone else an admin first."})
	}
	if err != nil {
		return userNotFoundAs404(err)
	}
	return h.renderInviteLink(c, u, token, true)
}

func userNotFoundAs404(err error) error {
	return notFoundAs(err, "That person does not exist in your account.")
}

// notFoundAs turns a store miss into the 404 page with message.
func notFoundAs(err error, message string) error {
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, message)
	}
	return err
}
