package server

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPI is the hand-written API reference; TestOpenAPI_MatchesRoutes keeps it
// in step with the registered routes.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(openAPI)
}
