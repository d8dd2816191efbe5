package auth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// SessionDevicePrefix starts the device id of every dashboard session: device
// lists show a session as a device "dashboard:<16 hex digits>" named
// SessionDeviceName, and revoking that device id ends the session. Phones may
// not sign in with a device id of this form.
const (
	SessionDevicePrefix = "dashboard:"
	SessionDeviceName   = "dashboard (browser)"
)

// SessionTTL bounds a dashboard session: a browser left open overnight signs in
// again in the morning.
const SessionTTL = 12 * time.Hour

// Session is a signed-in dashboard session: Token goes in an HttpOnly cookie,
// CSRF into every form the session submits.
type Session struct {
	Token     string
	CSRF      string
	ExpiresAt time.Time
	User      User
}

// LoginSession checks credentials like Login (same rate limits, same answer for
// an unknown email and a wrong password) and issues a dashboard session. A
// session is a token of kind session on its own pseudo-device (no device row,
// so it never counts in the sync-health report and revoking a phone never ends
// it); device lists show it all the same (ListDevices).
func (s *Service) LoginSession(ctx context.Context, email, password, clientAddr string) (Session, error) {
	user, err := s.checkPassword(ctx, email, password, clientAddr)
	if err != nil {
		return Session{}, err
	}
	secret, hash, err := newToken()
	if err != nil {
		return Session{}, err
	}
	csrf, _, err := newToken()
	if err != nil {
		return Session{}, err
	}
	now := s.db.Now()
	rec := store.TokenRecord{Hash: hash, UserID: user.ID, DeviceID: SessionDevicePrefix + hash[:16], Kind: KindSession,
		CSRF: &csrf, CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return store.CreateToken(tx, rec) }); err != nil {
		return Session{}, fmt.Errorf("login session: %w", err)
	}
	return Session{Token: secret, CSRF: csrf, ExpiresAt: rec.ExpiresAt, User: userInfo(user)}, nil
}

// VerifySession resolves a session cookie to its principal and CSRF secret.
func (s *Service) VerifySession(ctx context.Context, token string) (Principal, string, error) {
	owner, err := s.liveToken(ctx, token)
	if err != nil {
		return Principal{}, "", err
	}
	if owner.Kind != KindSession || owner.CSRF == nil {
		return Principal{}, "", unauthorized("invalid session")
	}
	return principalOf(owner), *owner.CSRF, nil
}

// CSRFEqual compares a submitted CSRF token with the expected one in constant time.
func CSRFEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// User returns the signed-in user's public description.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	u, err := store.GetUser(s.db.Autocommit(ctx), id, false)
	if err != nil {
		return User{}, err
	}
	return userInfo(u), nil
}

// checkPassword is Login's credential check: rate limits first, the same bcrypt
// work whether or not the email exists, failures counted.
func (s *Service) checkPassword(ctx context.Context, email, password, clientAddr string) (store.UserRecord, error) {
	if email == "" || password == "" || len(email) > 254 || len(password) > 1024 {
		return store.UserRecord{}, unauthorized(badCredentials)
	}
	return s.verifyCredentials(ctx, email, password, clientAddr, "dashboard login failed")
}
