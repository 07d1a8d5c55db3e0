package endpoint

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// SendJSON answers 200 with a JSON body.
func SendJSON(c *fiber.Ctx, b []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Response().SetBodyRaw(b)
	c.Status(fiber.StatusOK)
	return nil
}

// StatusTrue is the body of most acknowledgements.
const StatusTrue = `{"status":true}`

// Redirect is better-call's ctx.redirect: 302, the location, an empty body
// still labelled JSON.
func Redirect(c *fiber.Ctx, location string) error {
	c.Set(fiber.HeaderLocation, location)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Status(fiber.StatusFound)
	return nil
}

// NoStore marks the response uncacheable.
func NoStore(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderPragma, "no-cache")
}

// Expose sets response header name to value and names it in
// Access-Control-Expose-Headers, merged with the names already there and
// joined by ", " as better-auth's plugins do.
func Expose(c *fiber.Ctx, name, value string) {
	c.Set(name, value)
	names := strings.Split(string(c.Response().Header.Peek(fiber.HeaderAccessControlExposeHeaders)), ",")
	out := make([]string, 0, len(names)+1)
	for _, n := range append(names, name) {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	c.Set(fiber.HeaderAccessControlExposeHeaders, strings.Join(out, ", "))
}
