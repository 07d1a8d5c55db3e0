package endpoint

import (
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/jsuri"
)

// Meta describes the caller for new sessions. The user agent is trimmed to
// something a database column can always hold.
func (e *Env) Meta(c *fiber.Ctx) core.RequestMeta {
	m := core.RequestMeta{}
	if a, ok := e.ClientAddr(c); ok {
		m.IP = a.String()
	}
	ua := string(c.Request().Header.UserAgent())
	if len(ua) > 512 {
		ua = ua[:512]
	}
	ua = strings.ToValidUTF8(strings.ReplaceAll(ua, "\x00", ""), "")
	m.UserAgent = ua
	return m
}

// PathParam returns a decoded route parameter; ok is false when it does
// not decode to clean UTF-8 (such a value can never be a valid token).
func PathParam(c *fiber.Ctx, name string) (string, bool) {
	v, ok := jsuri.DecodeURIComponent(c.Params(name))
	if !ok || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return "", false
	}
	return strings.Clone(v), true
}
