package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// keyInfo is the answer of GET /api/v1/key.
type keyInfo struct {
	Name            string   `json:"name"`
	APIKey          string   `json:"api_key"`
	Type            string   `json:"type"`
	Mode            string   `json:"mode"`
	Scope           string   `json:"scope"`
	Scopes          []string `json:"scopes"`
	Licenses        []string `json:"licenses"`
	Account         string   `json:"account"`
	AuthenticatedBy string   `json:"authenticated_by"`
}

// apiKeyShow tells integrators who they are: a way to test credentials.
func (h *Handlers) apiKeyShow(c echo.Context, caller *apiCaller) error {
	k := caller.key
	licenses := k.Licenses
	if licenses == nil {
		licenses = []string{}
	}
	scope := caller.scope.String()
	info := keyInfo{
		Name: k.Name, APIKey: k.PublicKey, Type: string(k.Type), Mode: string(k.Mode),
		Scope: scope, Scopes: caller.scope.list(), Licenses: licenses,
		Account: caller.account.Slug, AuthenticatedBy: caller.via,
	}
	return writeJSON(c, http.StatusOK, info.appendJSON)
}
