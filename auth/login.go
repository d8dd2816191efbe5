package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"golang.org/x/crypto/bcrypt"
)

// badCredentials is the one answer for an unknown email and a wrong password.
const badCredentials = "invalid email or password"

// Login checks a user's credentials and issues a device token. Failed attempts
// count against the email and the client address; successful ones do not.
func (s *Service) Login(ctx context.Context, email, password, deviceID, deviceName, clientAddr string) (Token, error) {
	if err := validateLogin(email, password, deviceID, deviceName); err != nil {
		return Token{}, err
	}
	user, err := s.verifyCredentials(ctx, email, password, clientAddr, "login failed")
	if err != nil {
		return Token{}, err
	}
	now := s.db.Now()
	secret, hash256, err := newToken()
	if err != nil {
		return Token{}, err
	}
	expires := now.Add(s.cfg.TokenTTL)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := store.UpsertDevice(tx, user.ID, deviceID, optional(deviceName)); err != nil {
			return err
		}
		return store.CreateToken(tx, store.TokenRecord{Hash: hash256, UserID: user.ID, DeviceID: deviceID,
			Kind: KindDevice, CreatedAt: now, ExpiresAt: expires})
	})
	if err != nil {
		return Token{}, fmt.Errorf("login: %w", err)
	}
	return Token{Secret: secret, ExpiresAt: expires, User: userInfo(user)}, nil
}

// verifyCredentials checks email and password under the failed-login limits:
// bcrypt runs whether or not the email exists (so timing does not tell), the
// answer is the same for both, and only failures count against the limits.
func (s *Service) verifyCredentials(ctx context.Context, email, password, clientAddr, what string) (store.UserRecord, error) {
	email = store.NormalizeEmail(email)
	now := s.db.Now()
	waitEmail, err := s.emails.wait(ctx, email, now)
	if err != nil {
		return store.UserRecord{}, fmt.Errorf("login limits: %w", err)
	}
	waitAddr, err := s.addresses.wait(ctx, clientAddr, now)
	if err != nil {
		return store.UserRecord{}, fmt.Errorf("login limits: %w", err)
	}
	if wait := max(waitEmail, waitAddr); wait > 0 {
		return store.UserRecord{}, rateLimited(wait)
	}
	user, found, err := s.userByEmail(ctx, email)
	if err != nil {
		return user, err
	}
	hash := s.dummyHash
	if found {
		hash = []byte(user.PasswordHash)
	}
	// A deactivated user gets the answer of a wrong password: the same bcrypt
	// work was done, and nothing tells whether the account exists.
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil || !found || user.DeactivatedAt != nil {
		if err := errors.Join(s.emails.fail(ctx, email, now), s.addresses.fail(ctx, clientAddr, now)); err != nil {
			return store.UserRecord{}, fmt.Errorf("login limits: %w", err)
		}
		s.logger.InfoContext(ctx, what, "known_email", found, "client_addr", clientAddr)
		return store.UserRecord{}, unauthorized(badCredentials)
	}
	return user, nil
}

func (s *Service) userByEmail(ctx context.Context, email string) (store.UserRecord, bool, error) {
	if domain.ValidText(email) != "" {
		// No stored email holds such text, and Postgres would refuse the query
		// (the dashboard's form reaches here without JSON decoding).
		return store.UserRecord{}, false, nil
	}
	u, err := store.GetUserByEmail(s.db.Autocommit(ctx), email)
	switch {
	case err == nil:
		return u, true, nil
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return u, false, nil
	}
	return u, false, fmt.Errorf("login: %w", err)
}

func validateLogin(email, password, deviceID, deviceName string) error {
	var fs []domain.FieldError
	check := func(field, v string, required bool, maxLen int) {
		switch {
		case required && strings.TrimSpace(v) == "":
			fs = append(fs, domain.FieldError{Field: field, Message: "is required"})
		case utf8.RuneCountInString(v) > maxLen:
			fs = append(fs, domain.FieldError{Field: field, Message: fmt.Sprintf("must be at most %d characters", maxLen)})
		}
	}
	check("email", email, true, 254)
	check("password", password, true, 1024)
	check("device_id", deviceID, true, 128)
	check("device_name", deviceName, false, 200)
	if strings.HasPrefix(deviceID, SessionDevicePrefix) {
		fs = append(fs, domain.FieldError{Field: "device_id", Message: "must not start with " + SessionDevicePrefix})
	}
	if len(fs) > 0 {
		return domain.Invalid(fs...)
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func userInfo(u store.UserRecord) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role}
}
