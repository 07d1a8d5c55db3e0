// Package social serves better-auth's social sign-in and account routes:
// /sign-in/social, the provider callback (GET, and POST for form_post
// providers), /link-social, /unlink-account, /get-access-token,
// /refresh-token and /account-info. The flow itself is core/social; this
// package binds its bodies, cookies and redirects.
package social

import (
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	socialcore "github.com/authd/authd/core/social"
)

type handlers struct {
	*endpoint.Env
	svc *socialcore.Service
}

// Routes is the feature's route table over svc, under the base path.
func Routes(svc *socialcore.Service) func(*endpoint.Env) []endpoint.Route {
	return func(e *endpoint.Env) []endpoint.Route {
		h := handlers{Env: e, svc: svc}
		required := endpoint.Spec{Session: endpoint.SessionRequired}
		return []endpoint.Route{
			endpoint.POST("/sign-in/social", endpoint.Spec{}, h.signInSocial),
			endpoint.GET("/callback/:id", endpoint.Spec{}, h.callback),
			endpoint.POST("/callback/:id", endpoint.Spec{AllowForm: true}, h.callbackPost),
			endpoint.POST("/link-social", required, h.linkSocial),
			endpoint.POST("/unlink-account", required, h.unlinkAccount),
			endpoint.POST("/get-access-token", required, h.getAccessToken),
			endpoint.POST("/refresh-token", required, h.refreshToken),
			endpoint.GET("/account-info", required, h.accountInfo),
		}
	}
}
