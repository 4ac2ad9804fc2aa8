package handlers

import (
	"github.com/labstack/echo/v4"
)

// keyPause stops a key reversibly: its next request, on any instance, is
// refused with key_paused, and its access tokens end for good.
func (h *Handlers) keyPause(c echo.Context) error {
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	if err := h.db.PauseAPIKey(c.Request().Context(), k.AccountID, k.ID, actor(c), h.now()); err != nil {
		return notFoundAs404(err)
	}
	return h.afterRowChange(c, k.ID, "Paused "+k.Name+": its calls are refused until you resume it.")
}

// keyResume lets a paused key work again; tokens issued before the pause stay ended.
func (h *Handlers) keyResume(c echo.Context) error {
	k, err := h.activeKey(c)
	if err != nil {
		return err
	}
	if err := h.db.ResumeAPIKey(c.Request().Context(), k.AccountID, k.ID, actor(c), h.now()); err != nil {
		return notFoundAs404(err)
	}
	return h.afterRowChange(c, k.ID, "Resumed "+k.Name+": it works again; its clients ask for new access tokens.")
}
