package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/google/uuid"
)

// Integrations' API keys (docs/api.md, "ERP status import"): issued by ops,
// shown once, stored as the SHA-256 of the secret like device tokens. A key
// is not a user's token: Verify refuses it, VerifyAPIKey accepts only keys.

// APIKeyInput names a new key after the integration that holds it.
type APIKeyInput struct {
	Name string `json:"name"`
}

// CreateAPIKey issues a key; the answer carries its secret, this once.
func (s *Service) CreateAPIKey(ctx context.Context, in APIKeyInput) (domain.APIKey, error) {
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "" || len(name) > 100:
		return domain.APIKey{}, domain.Invalid(domain.FieldError{Field: "name", Message: "must be 1 to 100 characters"})
	case domain.ValidText(name) != "":
		return domain.APIKey{}, domain.Invalid(domain.FieldError{Field: "name", Message: domain.ValidText(name)})
	}
	secret, hash, err := newAPIKey()
	if err != nil {
		return domain.APIKey{}, err
	}
	k, err := s.db.CreateAPIKey(ctx, domain.APIKey{ID: uuid.NewString(), Name: name, Prefix: secret[:len(domain.APIKeyPrefix)+6]}, hash)
	if err != nil {
		return domain.APIKey{}, err
	}
	k.Secret = secret
	return k, nil
}

// ListAPIKeys lists every key, without secrets.
func (s *Service) ListAPIKeys(ctx context.Context) ([]domain.APIKey, error) {
	return s.db.ListAPIKeys(ctx)
}

// RevokeAPIKey ends a key at once: its next request is refused.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) (domain.APIKey, error) {
	return s.db.RevokeAPIKey(ctx, id)
}

// VerifyAPIKey resolves a live key to its integration.
func (s *Service) VerifyAPIKey(ctx context.Context, secret string) (domain.Integration, error) {
	if !strings.HasPrefix(secret, domain.APIKeyPrefix) || len(secret) > maxTokenLen {
		return domain.Integration{}, unauthorized("invalid API key")
	}
	k, err := s.db.APIKeyByHash(ctx, hashToken(secret))
	switch {
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return domain.Integration{}, unauthorized("invalid API key")
	case err != nil:
		return domain.Integration{}, fmt.Errorf("verify api key: %w", err)
	case k.RevokedAt != nil:
		return domain.Integration{}, unauthorized("API key revoked")
	}
	return domain.Integration{KeyID: k.ID, Name: k.Name}, nil
}

func newAPIKey() (secret, hash string, err error) {
	s, _, err := newToken()
	if err != nil {
		return "", "", err
	}
	secret = domain.APIKeyPrefix + s
	return secret, hashToken(secret), nil
}
