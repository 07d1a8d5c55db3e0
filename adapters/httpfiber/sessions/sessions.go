package sessions

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
	"github.com/authd/authd/core"
)

// GET /list-sessions (wire spec §4.7; the engine checks freshness).
func (h handlers) listSessions(c *fiber.Ctx, r *endpoint.Request, _ *struct{}) error {
	sessions, err := h.Auth.ListSessions(c.UserContext(), *r.View)
	if err != nil {
		return err
	}
	endpoint.NoStore(c) // the body holds every session token of the user
	return endpoint.SendJSON(c, jsonw.Array(sessions, 300, (*jsonw.W).Session))
}

type revokeSessionInput struct {
	Token string `json:"token" zod:"required"`
}

// POST /revoke-session: always {"status":true}; revoking the caller's own
// session also clears its cookies.
func (h handlers) revokeSession(c *fiber.Ctx, r *endpoint.Request, in *revokeSessionInput) error {
	current, err := h.Auth.RevokeSession(c.UserContext(), *r.View, in.Token)
	if err != nil {
		return err
	}
	if current {
		h.ExpireSessionCookies(c)
	}
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}

// POST /revoke-sessions ends every session of the user, this one included.
func (h handlers) revokeSessions(c *fiber.Ctx, r *endpoint.Request, _ *struct{}) error {
	if err := h.Auth.RevokeSessions(c.UserContext(), *r.View); err != nil {
		return err
	}
	h.ExpireSessionCookies(c)
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}

// POST /revoke-other-sessions keeps only the caller's session.
func (h handlers) revokeOtherSessions(c *fiber.Ctx, r *endpoint.Request, _ *struct{}) error {
	if err := h.Auth.RevokeOtherSessions(c.UserContext(), *r.View); err != nil {
		return err
	}
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}

// updateSessionInput is a bare z.record: better-auth's session additional
// fields, of which authd defines none.
type updateSessionInput struct {
	_ body.RecordOnly
}

// POST /update-session (wire spec §4.7) sets session additional fields.
// authd defines none, so every object body, once the session is known, has
// nothing to update: better-auth's answer when no field applies.
func (h handlers) updateSession(*fiber.Ctx, *endpoint.Request, *updateSessionInput) error {
	return core.ErrNoFieldsToUpdate
}
