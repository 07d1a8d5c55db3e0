package httpfiber

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Schemas of the better-auth endpoints (wire spec §4).
var (
	signUpBody = &schema{andRecord: true, fields: []field{
		required("name", tString), required("email", tEmail), required("password", tNonEmptyString),
		optional("image", tString), optional("callbackURL", tString), optional("rememberMe", tBool),
	}}
	signInBody = &schema{fields: []field{
		required("email", tString), required("password", tString),
		optional("callbackURL", tString), optional("rememberMe", tBool),
	}}
	signOutBody = &schema{optional: true, fields: []field{
		optional("callbackURL", tString), optional("disableRedirect", tBool), optional("state", tString),
	}}
	revokeSessionBody   = &schema{fields: []field{required("token", tString)}}
	updateUserBody      = &schema{recordOnly: true, fields: []field{optional("name", tString), optional("image", tStringOrNull)}}
	updateSessionBody   = &schema{recordOnly: true}
	verifyPasswordBody  = &schema{fields: []field{required("password", tString)}}
	changePasswordBody  = &schema{fields: []field{required("newPassword", tString), required("currentPassword", tString), optional("revokeOtherSessions", tBool)}}
	changeEmailBody     = &schema{fields: []field{required("newEmail", tEmail), optional("callbackURL", tString)}}
	deleteUserBody      = &schema{fields: []field{optional("callbackURL", tString), optional("password", tString), optional("token", tString)}}
	deleteCallbackQuery = &schema{fields: []field{required("token", tString), optional("callbackURL", tString)}}
	requestResetBody    = &schema{fields: []field{required("email", tEmail), optional("redirectTo", tString)}}
	resetLinkQuery      = &schema{fields: []field{required("callbackURL", tString)}}
	resetPasswordBody   = &schema{fields: []field{required("newPassword", tString), optional("token", tString)}}
	resetPasswordQuery  = &schema{fields: []field{optional("token", tString)}}
	sendVerifyBody      = &schema{fields: []field{required("email", tEmail), optional("callbackURL", tString)}}
	verifyEmailQuery    = &schema{fields: []field{required("token", tString), optional("callbackURL", tString)}}
)

func (s *server) routes(app *fiber.App) {
	// Probes may use HEAD; the auth routes below stay GET-only like
	// better-auth's.
	for _, m := range []string{fiber.MethodGet, fiber.MethodHead} {
		s.add(app, m, healthPath, s.health)
		s.add(app, m, readyPath, s.readiness)
	}

	b := s.o.BasePath
	s.add(app, fiber.MethodPost, b+"/sign-up/email", s.endpoint(endpoint{allowForm: true, body: signUpBody, formCSRF: true, handle: s.signUp}))
	s.add(app, fiber.MethodPost, b+"/sign-in/email", s.endpoint(endpoint{allowForm: true, body: signInBody, formCSRF: true, handle: s.signIn}))
	s.add(app, fiber.MethodPost, b+"/sign-out", s.endpoint(endpoint{body: signOutBody, handle: s.signOut}))

	s.add(app, fiber.MethodGet, b+"/get-session", s.endpoint(endpoint{noBody: true, handle: s.getSession}))
	s.add(app, fiber.MethodPost, b+"/get-session", s.endpoint(endpoint{noBody: true, handle: s.getSessionPost}))
	s.add(app, fiber.MethodGet, b+"/list-sessions", s.endpoint(endpoint{session: sessionRequired, handle: s.listSessions}))
	s.add(app, fiber.MethodPost, b+"/revoke-session", s.endpoint(endpoint{body: revokeSessionBody, session: sessionRequired, handle: s.revokeSession}))
	s.add(app, fiber.MethodPost, b+"/revoke-sessions", s.endpoint(endpoint{session: sessionRequired, handle: s.revokeSessions}))
	s.add(app, fiber.MethodPost, b+"/revoke-other-sessions", s.endpoint(endpoint{session: sessionRequired, handle: s.revokeOtherSessions}))
	s.add(app, fiber.MethodPost, b+"/update-session", s.endpoint(endpoint{body: updateSessionBody, session: sessionRequired, handle: s.updateSession}))

	s.add(app, fiber.MethodPost, b+"/update-user", s.endpoint(endpoint{body: updateUserBody, session: sessionRequired, handle: s.updateUser}))
	s.add(app, fiber.MethodPost, b+"/change-password", s.endpoint(endpoint{body: changePasswordBody, session: sessionRequired, handle: s.changePassword}))
	s.add(app, fiber.MethodPost, b+"/verify-password", s.endpoint(endpoint{body: verifyPasswordBody, session: sessionRequired, handle: s.verifyPassword}))
	s.add(app, fiber.MethodPost, b+"/change-email", s.endpoint(endpoint{body: changeEmailBody, session: sessionRequired, handle: s.changeEmail}))
	s.add(app, fiber.MethodPost, b+"/delete-user", s.endpoint(endpoint{body: deleteUserBody, session: sessionRequired, handle: s.deleteUser}))
	// The callback loads the session itself, after its enabled check.
	s.add(app, fiber.MethodGet, b+"/delete-user/callback", s.endpoint(endpoint{query: deleteCallbackQuery, checkCallbackQuery: true, handle: s.deleteUserCallback}))
	s.add(app, fiber.MethodGet, b+"/list-accounts", s.endpoint(endpoint{session: sessionRequired, handle: s.listAccounts}))

	s.add(app, fiber.MethodPost, b+"/request-password-reset", s.endpoint(endpoint{body: requestResetBody, handle: s.requestPasswordReset}))
	s.add(app, fiber.MethodGet, b+"/reset-password/:token", s.endpoint(endpoint{query: resetLinkQuery, checkCallbackQuery: true, handle: s.resetPasswordLink}))
	s.add(app, fiber.MethodPost, b+"/reset-password", s.endpoint(endpoint{body: resetPasswordBody, query: resetPasswordQuery, handle: s.resetPassword}))
	s.add(app, fiber.MethodPost, b+"/send-verification-email", s.endpoint(endpoint{body: sendVerifyBody, session: sessionOptional, handle: s.sendVerificationEmail}))
	s.add(app, fiber.MethodGet, b+"/verify-email", s.endpoint(endpoint{query: verifyEmailQuery, checkCallbackQuery: true, session: sessionOptional, handle: s.verifyEmail}))

	s.add(app, fiber.MethodGet, b+"/ok", s.ok)
	s.add(app, fiber.MethodGet, b+"/error", s.errorPage)
}

// add registers exactly one method (Fiber's Get would add HEAD too, which
// better-auth answers with 404) and records the route pattern for the logs
// and the rate limiter.
func (s *server) add(app *fiber.App, method, path string, h fiber.Handler) {
	if rel, ok := strings.CutPrefix(path, s.o.BasePath); ok && strings.HasPrefix(rel, "/") {
		s.rateRoutes.add(strings.ToLower(rel))
	}
	app.Add(method, path, func(c *fiber.Ctx) error {
		c.Locals(localRoute, path)
		return h(c)
	})
}
