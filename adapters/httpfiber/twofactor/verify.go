package twofactor

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
	core2fa "github.com/authd/authd/core/twofactor"
)

type verifyInput struct {
	Code        string `json:"code" zod:"required"`
	TrustDevice *bool  `json:"trustDevice"`
}

type verifyBackupCodeInput struct {
	Code           string `json:"code" zod:"required"`
	DisableSession *bool  `json:"disableSession"`
	TrustDevice    *bool  `json:"trustDevice"`
}

type sendOTPInput struct {
	_           body.OptionalBody
	TrustDevice *bool `json:"trustDevice"`
}

// caller is who the request speaks for: its session, else its challenge.
func (h handlers) caller(c *fiber.Ctx, r *endpoint.Request) core2fa.Caller {
	return core2fa.Caller{Session: r.View, Challenge: h.ChallengeID(r.Cookie), DontRemember: r.Cookie.DontRemember,
		Meta: h.ClientMeta(c, r)}
}

func isTrue(b *bool) bool { return b != nil && *b }

// POST /two-factor/verify-totp.
func (h handlers) verifyTOTP(c *fiber.Ctx, r *endpoint.Request, in *verifyInput) error {
	res, err := h.svc.VerifyTOTP(c.UserContext(), h.caller(c, r), core2fa.VerifyInput{Code: in.Code, TrustDevice: isTrue(in.TrustDevice)})
	return h.answer(c, r, res, err)
}

// POST /two-factor/verify-otp.
func (h handlers) verifyOTP(c *fiber.Ctx, r *endpoint.Request, in *verifyInput) error {
	res, err := h.svc.VerifyOTP(c.UserContext(), h.caller(c, r), core2fa.VerifyInput{Code: in.Code, TrustDevice: isTrue(in.TrustDevice)})
	return h.answer(c, r, res, err)
}

// POST /two-factor/verify-backup-code.
func (h handlers) verifyBackupCode(c *fiber.Ctx, r *endpoint.Request, in *verifyBackupCodeInput) error {
	res, err := h.svc.VerifyBackupCode(c.UserContext(), h.caller(c, r), core2fa.VerifyInput{Code: in.Code,
		TrustDevice: isTrue(in.TrustDevice), DisableSession: isTrue(in.DisableSession)})
	return h.answer(c, r, res, err)
}

// POST /two-factor/send-otp. trustDevice is accepted and, as in
// better-auth, has no effect here.
func (h handlers) sendOTP(c *fiber.Ctx, r *endpoint.Request, _ *sendOTPInput) error {
	if err := h.svc.SendOTP(c.UserContext(), h.caller(c, r)); err != nil {
		return err
	}
	return endpoint.SendJSON(c, []byte(endpoint.StatusTrue))
}

// answer writes a verify route's outcome: its cookies (also on failure: a
// spent challenge's cookie is cleared) and {"token","user"}, without the
// token when there is none to give.
func (h handlers) answer(c *fiber.Ctx, r *endpoint.Request, res core2fa.Result, err error) error {
	if res.ClearChallenge {
		h.ClearChallenge(c)
	}
	if err != nil {
		return err
	}
	if res.Session != nil {
		h.SetSessionCookie(c, *res.Session, r.Cookie.DontRemember, r.Cookie.DontRemember)
		if res.ClearChallenge {
			h.SetKnownDevice(c, res.User.ID())
		}
	}
	if res.TrustDevice != "" {
		h.SetTrustDevice(c, res.TrustDevice)
	}
	w := h.JSON(512)
	w.Raw("{")
	if res.Token != "" {
		w.Raw(`"token":`).Str(res.Token).Raw(",")
	}
	w.Raw(`"user":`).User(res.User).Raw("}")
	return endpoint.SendJSON(c, w.B)
}

func writeStrings(w *jsonw.W, ss []string) {
	w.Raw("[")
	for i, s := range ss {
		if i > 0 {
			w.Raw(",")
		}
		w.Str(s)
	}
	w.Raw("]")
}
