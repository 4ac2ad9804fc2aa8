package handlers

import (
	"github.com/labstack/echo/v4"
)

// keyEndTokens ends every access token of a key without revoking the key:
// its clients ask for new tokens with the same key and secret.
func (h *Handlers) keyEndTokens(c echo.Context) error {
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	if _, err := h.db.EndKeyTokens(c.Request().Context(), k.AccountID, k.ID, actor(c), h.now()); err != nil {
		return notFoundAs404(err)
	}
	return h.afterRowChange(c, k.ID, "Ended every access token of "+k.Name+". The key itself still works.")
}
