package httpapi

import (
	"github.com/fieldsync/fieldsync/domain"
	"github.com/gofiber/fiber/v2"
)

// RequireAction lets through only the roles the role table grants a
// (domain.Authorize), so a route names its right rather than a list of roles
// that could drift from the table. It must follow Authenticate.
func RequireAction(a domain.Action) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := CallerOf(c)
		if p.UserID == "" {
			return domain.Errorf(domain.CodeUnauthorized, "authentication required")
		}
		if err := domain.Authorize(p.Role, a); err != nil {
			return err
		}
		return c.Next()
	}
}
