// Package twofactor serves better-auth's twoFactor plugin routes
// (/two-factor/*) over core/twofactor. The sign-in challenge itself is
// answered by the password sign-in route (endpoint.Env.SignInGate).
package twofactor

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	core2fa "github.com/authd/authd/core/twofactor"
)

type handlers struct {
	*endpoint.Env
	svc *core2fa.Service
}

// Routes is the feature's route table: empty unless the twoFactor plugin is
// on.
func Routes(e *endpoint.Env) []endpoint.Route {
	if e.TwoFactor == nil {
		return nil
	}
	h := handlers{e, e.TwoFactor}
	required := endpoint.Spec{Session: endpoint.SessionRequired}
	optional := endpoint.Spec{Session: endpoint.SessionOptional}
	return []endpoint.Route{
		endpoint.POST("/two-factor/enable", required, h.enable),
		endpoint.POST("/two-factor/get-totp-uri", required, h.totpURI),
		endpoint.POST("/two-factor/verify-totp", optional, h.verifyTOTP),
		endpoint.POST("/two-factor/send-otp", optional, h.sendOTP),
		endpoint.POST("/two-factor/verify-otp", optional, h.verifyOTP),
		endpoint.POST("/two-factor/generate-backup-codes", required, h.generateBackupCodes),
		endpoint.POST("/two-factor/verify-backup-code", optional, h.verifyBackupCode).
			Answer(fiber.StatusConflict, core2fa.ErrBackupCodeRace),
		endpoint.POST("/two-factor/disable", required, h.disable),
	}
}
