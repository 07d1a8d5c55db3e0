// Package emailpassword serves better-auth's email/password routes: sign-up,
// sign-in, the password reset and email verification (wire spec §4.1-4.2,
// §4.13-4.15). Each route's input is a struct declared next to its handler.
package emailpassword

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type handlers struct{ *endpoint.Env }

// Routes is the feature's route table, under the base path.
func Routes(e *endpoint.Env) []endpoint.Route {
	h := handlers{e}
	return []endpoint.Route{
		endpoint.POST("/sign-up/email", endpoint.Spec{AllowForm: true, FormCSRF: true}, h.signUp),
		endpoint.POST("/sign-in/email", endpoint.Spec{AllowForm: true, FormCSRF: true}, h.signIn),
		endpoint.POST("/request-password-reset", endpoint.Spec{}, h.requestPasswordReset),
		endpoint.GET("/reset-password/:token", endpoint.Spec{CheckCallbackQuery: true}, h.resetPasswordLink),
		// The reset token's user is gone: better-auth answers 400.
		endpoint.POST("/reset-password", endpoint.Spec{}, h.resetPassword).
			Answer(fiber.StatusBadRequest, core.ErrUserNotFound),
		endpoint.POST("/send-verification-email", endpoint.Spec{Session: endpoint.SessionOptional}, h.sendVerificationEmail),
		// Without a callbackURL, every token failure is a 401.
		endpoint.GET("/verify-email", endpoint.Spec{CheckCallbackQuery: true, Session: endpoint.SessionOptional}, h.verifyEmail).
			Answer(fiber.StatusUnauthorized, core.ErrInvalidToken, core.ErrUserNotFound, core.ErrInvalidUser),
	}
}
