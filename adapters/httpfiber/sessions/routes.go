// Package sessions serves better-auth's session routes: get-session, the
// session list and revocations, update-session and sign-out (wire spec
// §4.5-4.7).
package sessions

import (
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
)

type handlers struct{ *endpoint.Env }

// Routes is the feature's route table, under the base path.
func Routes(e *endpoint.Env) []endpoint.Route {
	h := handlers{e}
	required := endpoint.Spec{Session: endpoint.SessionRequired}
	return []endpoint.Route{
		endpoint.GET("/get-session", endpoint.Spec{NoBody: true}, h.getSession),
		endpoint.POST("/get-session", endpoint.Spec{NoBody: true}, h.getSessionPost),
		endpoint.GET("/list-sessions", required, h.listSessions),
		endpoint.POST("/revoke-session", required, h.revokeSession),
		endpoint.POST("/revoke-sessions", required, h.revokeSessions),
		endpoint.POST("/revoke-other-sessions", required, h.revokeOtherSessions),
		endpoint.POST("/update-session", required, h.updateSession),
		endpoint.POST("/sign-out", endpoint.Spec{}, h.signOut),
	}
}
