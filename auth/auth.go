// Package auth signs users in, issues and verifies revocable bearer tokens, and
// keeps track of the devices they were issued to. It knows nothing of HTTP: the
// httpapi package reads the header and calls Verify.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"golang.org/x/crypto/bcrypt"
)

// Token kinds: device tokens are bearer tokens of the mobile API; session tokens
// back the dashboard's cookie and carry a CSRF secret.
const (
	KindDevice  = "device"
	KindSession = "session"
)

// Principal is a verified token: the caller it speaks for, and what auth
// needs to end it (Logout) and to keep session tokens off the bearer routes.
type Principal struct {
	domain.Caller
	TokenHash string
	Kind      string
}

// Config tunes the service. Zero values take the defaults.
type Config struct {
	TokenTTL   time.Duration // default 30 days
	BcryptCost int           // default bcrypt.DefaultCost; tests use bcrypt.MinCost
	// Failed logins allowed per window, per email and per client address.
	MaxFailuresPerEmail   int           // default 5
	MaxFailuresPerAddress int           // default 20
	FailureWindow         time.Duration // default 15 minutes
}

func (c Config) withDefaults() Config {
	if c.TokenTTL <= 0 {
		c.TokenTTL = 30 * 24 * time.Hour
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.MaxFailuresPerEmail <= 0 {
		c.MaxFailuresPerEmail = 5
	}
	if c.MaxFailuresPerAddress <= 0 {
		c.MaxFailuresPerAddress = 20
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = 15 * time.Minute
	}
	return c
}

// Service signs users in and verifies their tokens. It is safe for concurrent use.
type Service struct {
	db     *store.DB
	cfg    Config
	logger *slog.Logger
	// dummyHash is compared against when the email is unknown, so an unknown
	// email costs the same bcrypt work as a wrong password.
	dummyHash []byte
	emails    failureLimits
	addresses failureLimits
	tokens    tokenCache
}

// New builds a Service on db. Its clock is db.Now.
func New(db *store.DB, cfg Config, logger *slog.Logger) (*Service, error) {
	cfg = cfg.withDefaults()
	if cfg.BcryptCost < bcrypt.MinCost || cfg.BcryptCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: bcrypt cost %d out of range", cfg.BcryptCost)
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("fieldsync-timing-equaliser"), cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Service{db: db, cfg: cfg, logger: logger, dummyHash: dummy,
		emails:    newFailureLimits(db, "email", cfg.MaxFailuresPerEmail, cfg.FailureWindow),
		addresses: newFailureLimits(db, "addr", cfg.MaxFailuresPerAddress, cfg.FailureWindow)}, nil
}

// Password length bounds: bcrypt ignores bytes past 72, so longer passwords
// would silently share a hash.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// HashPassword validates and hashes a password for storage.
func (s *Service) HashPassword(pw string) (string, error) {
	if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen {
		return "", domain.Invalid(domain.FieldError{Field: "password",
			Message: fmt.Sprintf("must be %d to %d bytes", MinPasswordLen, MaxPasswordLen)})
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.cfg.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// newToken returns a fresh secret and the hash stored in its place.
func newToken() (secret, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("token entropy: %w", err)
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, hashToken(secret), nil
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func unauthorized(msg string) *domain.Error { return domain.Errorf(domain.CodeUnauthorized, "%s", msg) }
