package endpoint

import "github.com/gofiber/fiber/v2"

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
