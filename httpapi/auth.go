package httpapi

import (
	"strings"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/gofiber/fiber/v2"
)

const localPrincipal = "fieldsync.principal"

// Authenticate requires a valid device token in `Authorization: Bearer <token>`
// and stores its principal for PrincipalOf.
func Authenticate(svc *auth.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		scheme, token, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return domain.Errorf(domain.CodeUnauthorized, "missing bearer token")
		}
		p, err := svc.Verify(c.UserContext(), strings.TrimSpace(token))
		if err != nil {
			return err
		}
		// Dashboard session tokens live in a cookie with a CSRF secret; accepting
		// them as bearer tokens would bypass that protection.
		if p.Kind != auth.KindDevice {
			return domain.Errorf(domain.CodeUnauthorized, "invalid token")
		}
		SetPrincipal(c, p)
		return c.Next()
	}
}

// SetPrincipal stores the caller for PrincipalOf (for other authenticators, such
// as the dashboard's session cookie).
func SetPrincipal(c *fiber.Ctx, p auth.Principal) { c.Locals(localPrincipal, p) }

// PrincipalOf returns the token stored by Authenticate; the zero Principal
// (empty UserID) on a route without authentication. Only auth needs it
// (Logout); everything else takes CallerOf.
func PrincipalOf(c *fiber.Ctx) auth.Principal {
	p, _ := c.Locals(localPrincipal).(auth.Principal)
	return p
}

// CallerOf returns the caller of the request, as every service takes it: the
// zero Caller (empty UserID) on a route without authentication.
func CallerOf(c *fiber.Ctx) domain.Caller { return PrincipalOf(c).Caller }
