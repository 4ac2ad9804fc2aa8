package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf16"

	"github.com/labstack/echo/v4"

	"keydesk/views"
	"keydesk/web"
)

// keyConfirm asks to confirm action (revoke, pause, end-tokens) on the
// path's active key, saying what it does before it is done; title names the page.
func (h *Handlers) keyConfirm(action, title string) echo.HandlerFunc {
	return func(c echo.Context) error {
		k, err := h.activeKey(c)
		if err != nil {
			return err
		}
		return renderConfirm(c, views.KeyConfirmVM{Page: page(c, title, "integrations"), Key: k, Action: action,
			BackToKey: backToKey(c)})
	}
}

func (h *Handlers) keyRevoke(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	acc := viewer(c).Account
	k, err := h.db.RevokeAPIKey(c.Request().Context(), acc.ID, id, actor(c), h.now())
	if err != nil {
		return notFoundAs404(err)
	}
	return h.afterRowChange(c, k.ID, "Revoked "+k.Name+". It and its tokens no longer work.")
}

// renderConfirm asks to confirm a revoke or a roll, in the modal for htmx.
func renderConfirm(c echo.Context, vm views.KeyConfirmVM) error {
	return renderConfirmStatus(c, http.StatusOK, vm)
}

func renderConfirmStatus(c echo.Context, status int, vm views.KeyConfirmVM) error {
	if web.IsHTMX(c) {
		return web.Render(c, status, views.KeyConfirmModal(vm))
	}
	return web.Render(c, status, views.KeyConfirmPage(vm))
}

// changedTrigger is the HX-Trigger value after a key changed: the modal
// closes, a toast shows the message and key lists fetch their rows again.
func changedTrigger(message string) string {
	b, _ := json.Marshal(map[string]string{"keydesk:close": "", "keydesk:toast": message, views.KeysChanged: ""})
	return asciiJSON(b)
}

// asciiJSON writes every non-ASCII character of JSON text as a \u escape:
// a browser reads a header's bytes as Latin-1, so "›" or a key name's "—"
// would reach the toast garbled.
func asciiJSON(b []byte) string {
	var out strings.Builder
	for _, r := range string(b) {
		switch {
		case r < 0x80:
			out.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.String()
}
