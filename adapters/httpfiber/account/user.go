package account

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
	"github.com/authd/authd/core"
)

type updateUserInput struct {
	_     body.RecordOnly
	Name  *string       `json:"name"`
	Image body.Nullable `json:"image" zod:"nullable"`
	// Email is refused like better-auth refuses it: any truthy value,
	// whatever its type.
	Email bool `json:"email" zod:"truthy"`
	// TwoFactorEnabled is the twoFactor plugin's field, not settable
	// (input: false): a truthy value is refused while the plugin is on.
	TwoFactorEnabled bool `json:"twoFactorEnabled" zod:"truthy"`
}

// errTwoFactorField is better-auth's parseUserInput refusing a field with
// input: false.
var errTwoFactorField = apierror.BadRequest("FIELD_NOT_ALLOWED", "twoFactorEnabled is not allowed to be set")

// POST /update-user (wire spec §4.8). Only name and image are read; every
// other key, emailVerified and id included, is ignored, but for a truthy
// twoFactorEnabled while the twoFactor plugin is on.
func (h handlers) updateUser(c *fiber.Ctx, r *endpoint.Request, in *updateUserInput) error {
	// better-auth refuses a truthy email first (core's check).
	if h.TwoFactor != nil && in.TwoFactorEnabled && !in.Email {
		return errTwoFactorField
	}
	user, err := h.Auth.UpdateUser(c.UserContext(), *r.View, core.UpdateUserInput{
		Name:     in.Name,
		ImageSet: in.Image.Set,
		Image:    in.Image.Value, // nil for null: remove the image
		Email:    in.Email,
	})
	if err != nil {
		return err
	}
	h.SetSessionCookie(c, core.SessionView{Session: r.View.Session, User: user}, r.Cookie.DontRemember, r.Cookie.DontRemember)
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}

// GET /list-accounts (wire spec §4.16).
func (h handlers) listAccounts(c *fiber.Ctx, r *endpoint.Request, _ *struct{}) error {
	accounts, err := h.Auth.ListAccounts(c.UserContext(), *r.View)
	if err != nil {
		return err
	}
	endpoint.NoStore(c)
	return endpoint.SendJSON(c, jsonw.Array(accounts, 256, (*jsonw.W).Account))
}
