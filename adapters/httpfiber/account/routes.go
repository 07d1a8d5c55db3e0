// Package account serves better-auth's routes on the signed-in user's
// account: update-user, change-password, verify-password, change-email,
// delete-user with its mailed callback, and list-accounts (wire spec
// §4.8-4.12, §4.16).
package account

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
)

type handlers struct{ *endpoint.Env }

// Routes is the feature's route table, under the base path.
func Routes(e *endpoint.Env) []endpoint.Route {
	h := handlers{e}
	required := endpoint.Spec{Session: endpoint.SessionRequired}
	return []endpoint.Route{
		endpoint.POST("/update-user", required, h.updateUser),
		endpoint.POST("/change-password", required, h.changePassword),
		endpoint.POST("/verify-password", required, h.verifyPassword),
		endpoint.POST("/change-email", required, h.changeEmail),
		// A bad deletion token is a 404 in better-auth.
		endpoint.POST("/delete-user", required, h.deleteUser).
			Answer(fiber.StatusNotFound, core.ErrInvalidToken),
		// The callback loads the session itself, after its enabled check.
		endpoint.GET("/delete-user/callback", endpoint.Spec{CheckCallbackQuery: true}, h.deleteUserCallback).
			Answer(fiber.StatusNotFound, core.ErrInvalidToken),
		endpoint.GET("/list-accounts", required, h.listAccounts),
	}
}
