package httpapi

import (
	"strings"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/gofiber/fiber/v2"
)

const localIntegration = "fieldsync.integration"

// AuthenticateAPIKey requires an integration's API key, in `X-Api-Key` or as
// `Authorization: Bearer fsk_...`, granted action a (domain.AuthorizeIntegration).
// A user's live token on such a route is forbidden (users hold no integration
// rights), an unknown or revoked one unauthorized.
func AuthenticateAPIKey(svc *auth.Service, a domain.Action) fiber.Handler {
	return func(c *fiber.Ctx) error {
		token := strings.TrimSpace(c.Get("X-Api-Key"))
		if token == "" {
			scheme, t, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(t) == "" {
				return domain.Errorf(domain.CodeUnauthorized, "missing API key")
			}
			token = strings.TrimSpace(t)
		}
		if !strings.HasPrefix(token, domain.APIKeyPrefix) {
			p, err := svc.Verify(c.UserContext(), token)
			if err != nil || p.Kind != auth.KindDevice {
				return domain.Errorf(domain.CodeUnauthorized, "invalid API key")
			}
			if err := domain.Authorize(p.Role, a); err != nil {
				return err
			}
			return domain.Errorf(domain.CodeForbidden, "this route takes an integration's API key")
		}
		k, err := svc.VerifyAPIKey(c.UserContext(), token)
		if err != nil {
			return err
		}
		if err := domain.AuthorizeIntegration(a); err != nil {
			return err
		}
		c.Locals(localIntegration, k)
		return c.Next()
	}
}

// IntegrationOf returns the integration AuthenticateAPIKey let in.
func IntegrationOf(c *fiber.Ctx) domain.Integration {
	k, _ := c.Locals(localIntegration).(domain.Integration)
	return k
}
