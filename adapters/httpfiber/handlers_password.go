package httpfiber

import (
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
)

// POST /request-password-reset (wire spec §4.13): the same answer whether
// or not the email belongs to a user.
func (s *server) requestPasswordReset(c *fiber.Ctx, r *request) error {
	if err := s.auth.RequestPasswordReset(c.UserContext(), getStr(r.body, "email"), getStr(r.body, "redirectTo")); err != nil {
		return err
	}
	return sendJSON(c, []byte(`{"status":true,"message":"If this email exists in our system, check your email for the reset link"}`))
}

// GET /reset-password/:token, the mailed link: a 302 to the (already
// vetted) callbackURL carrying ?token= when the token is live, or
// ?error=INVALID_TOKEN. The token is not consumed here.
func (s *server) resetPasswordLink(c *fiber.Ctx, r *request) error {
	cb := getStr(r.query, "callbackURL")
	token, ok := pathParam(c, "token")
	valid := false
	if ok && cb != "" {
		var err error
		if valid, err = s.auth.CheckResetToken(c.UserContext(), token); err != nil {
			return err
		}
	}
	loc := ""
	if valid {
		loc = resolveWithParam(s.o.BaseURL, cb, "token", token)
	} else {
		loc = resolveWithParam(s.o.BaseURL, cb, "error", "INVALID_TOKEN")
	}
	if loc == "" {
		loc = resolveWithParam(s.o.BaseURL, "", "error", "INVALID_TOKEN")
	}
	return redirect(c, loc)
}

// POST /reset-password: the token comes from the body or, failing that, the
// query.
func (s *server) resetPassword(c *fiber.Ctx, r *request) error {
	token := getStr(r.body, "token")
	if token == "" {
		token = getStr(r.query, "token")
	}
	if token == "" {
		return core.ErrInvalidToken
	}
	if err := s.auth.ResetPassword(c.UserContext(), token, getStr(r.body, "newPassword")); err != nil {
		return err
	}
	return sendJSON(c, []byte(statusTrue))
}

// POST /send-verification-email (wire spec §4.14); the session, if any,
// decides between the anonymous and the signed-in flow.
func (s *server) sendVerificationEmail(c *fiber.Ctx, r *request) error {
	if err := s.auth.SendVerificationEmail(c.UserContext(), r.view, getStr(r.body, "email"), getStr(r.body, "callbackURL")); err != nil {
		return err
	}
	return sendJSON(c, []byte(statusTrue))
}

// verifyFailures are the token failures better-auth reports by redirect
// (with a callbackURL) or as a 401.
var verifyFailures = []string{
	core.ErrInvalidToken.Code, core.ErrTokenExpired.Code, core.ErrUserNotFound.Code, core.ErrInvalidUser.Code,
}

// GET /verify-email, the mailed link (wire spec §4.15).
func (s *server) verifyEmail(c *fiber.Ctx, r *request) error {
	cb := getStr(r.query, "callbackURL")
	res, err := s.auth.VerifyEmail(c.UserContext(), getStr(r.query, "token"), cb, r.view)
	if err != nil {
		ce, ok := isCode(err, verifyFailures...)
		if !ok {
			return err
		}
		if cb != "" {
			return redirect(c, appendQueryParam(cb, "error", ce.Code))
		}
		return ce.WithKind(core.KindUnauthenticated)
	}
	if res.EmailChanged && r.view != nil {
		v := *r.view
		if res.User != nil {
			v.User = *res.User
		}
		s.setSessionCookie(c, v, r.cookie.dontRemember, r.cookie.dontRemember)
	}
	if cb != "" {
		return redirect(c, cb)
	}
	if res.ConfirmationSent {
		return sendJSON(c, []byte(statusTrue))
	}
	w := &jw{b: make([]byte, 0, 512)}
	w.raw(`{"status":true,"user":`)
	if res.EmailChanged && res.User != nil {
		w.user(*res.User)
	} else {
		w.raw("null")
	}
	return sendJSON(c, w.raw("}").b)
}
