package twofactor

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	core2fa "github.com/authd/authd/core/twofactor"
)

type enableInput struct {
	Password string  `json:"password" zod:"required"`
	Method   *string `json:"method"`
	Issuer   *string `json:"issuer"`
}

// errMethod is zod's answer to a method outside z.enum(["otp", "totp"]).
var errMethod = apierror.BadRequest("VALIDATION_ERROR", `[body.method] Invalid option: expected one of "otp"|"totp"`)

// POST /two-factor/enable: TOTP answers the enrolment URI and backup codes
// (two-factor is on only after the first code); OTP is on at once, with the
// session rotated.
func (h handlers) enable(c *fiber.Ctx, r *endpoint.Request, in *enableInput) error {
	method := core2fa.MethodTOTP
	if in.Method != nil {
		method = *in.Method
	}
	if method != core2fa.MethodTOTP && method != core2fa.MethodOTP {
		return errMethod
	}
	issuer := ""
	if in.Issuer != nil {
		issuer = *in.Issuer
	}
	res, err := h.svc.Enable(c.UserContext(), *r.View, core2fa.EnableInput{Password: in.Password, Method: method,
		Issuer: issuer, Meta: h.ClientMeta(c, r)})
	if err != nil {
		return err
	}
	if res.Session != nil {
		h.SetSessionCookie(c, *res.Session, r.Cookie.DontRemember, r.Cookie.DontRemember)
		return endpoint.SendJSON(c, []byte(`{"method":"otp"}`))
	}
	w := h.JSON(512)
	w.Raw(`{"method":"totp","totpURI":`).Str(res.TOTPURI).Raw(`,"backupCodes":`)
	writeStrings(w, res.BackupCodes)
	return endpoint.SendJSON(c, w.Raw("}").B)
}

type passwordInput struct {
	Password string `json:"password" zod:"required"`
}

// POST /two-factor/get-totp-uri.
func (h handlers) totpURI(c *fiber.Ctx, r *endpoint.Request, in *passwordInput) error {
	uri, err := h.svc.TOTPURI(c.UserContext(), *r.View, in.Password, h.ClientMeta(c, r))
	if err != nil {
		return err
	}
	w := h.JSON(256)
	return endpoint.SendJSON(c, w.Raw(`{"totpURI":`).Str(uri).Raw("}").B)
}

// POST /two-factor/generate-backup-codes.
func (h handlers) generateBackupCodes(c *fiber.Ctx, r *endpoint.Request, in *passwordInput) error {
	codes, err := h.svc.GenerateBackupCodes(c.UserContext(), *r.View, in.Password, h.ClientMeta(c, r))
	if err != nil {
		return err
	}
	w := h.JSON(256)
	w.Raw(`{"status":true,"backupCodes":`)
	writeStrings(w, codes)
	return endpoint.SendJSON(c, w.Raw("}").B)
}

// POST /two-factor/disable: two-factor off, the session rotated, and the
// device this browser trusted forgotten.
func (h handlers) disable(c *fiber.Ctx, r *endpoint.Request, in *passwordInput) error {
	res, err := h.svc.Disable(c.UserContext(), *r.View, in.Password, h.TrustDevice(r.Cookie), h.ClientMeta(c, r))
	if err != nil {
		return err
	}
	h.SetSessionCookie(c, res.Session, r.Cookie.DontRemember, r.Cookie.DontRemember)
	if res.ClearTrust {
		h.ClearTrustDevice(c)
	}
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}
