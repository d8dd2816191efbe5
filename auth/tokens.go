package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// maxTokenLen bounds what is hashed: real tokens are 43 characters.
const maxTokenLen = 256

// Verify resolves a bearer token to its principal with one indexed query.
func (s *Service) Verify(ctx context.Context, token string) (Principal, error) {
	owner, err := s.liveToken(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	return principalOf(owner), nil
}

// liveToken looks a token up and refuses it unless it is live: known, not
// revoked, not expired.
func (s *Service) liveToken(ctx context.Context, token string) (store.TokenOwner, error) {
	if token == "" || len(token) > maxTokenLen {
		return store.TokenOwner{}, unauthorized("invalid token")
	}
	hash := hashToken(token)
	now := s.db.Now()
	if owner, ok := s.tokens.get(hash, now); ok && now.Before(owner.ExpiresAt) {
		return owner, nil
	}
	gen, live := s.tokens.begin()
	owner, err := store.GetTokenOwner(s.db.Autocommit(ctx), hash)
	switch {
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return owner, unauthorized("invalid token")
	case err != nil:
		return owner, fmt.Errorf("verify token: %w", err)
	case owner.RevokedAt != nil, owner.UserDeactivated:
		return owner, unauthorized("token revoked")
	case !s.db.Now().Before(owner.ExpiresAt):
		return owner, unauthorized("token expired")
	}
	if live {
		s.tokens.put(owner, gen, now)
	}
	return owner, nil
}

func principalOf(owner store.TokenOwner) Principal {
	return Principal{Caller: domain.Caller{UserID: owner.UserID, Role: owner.Role, DeviceID: owner.DeviceID},
		TokenHash: owner.Hash, Kind: owner.Kind}
}

// Logout revokes the caller's token at once, on every instance: the
// transaction notes the token, which other instances' caches hear of.
func (s *Service) Logout(ctx context.Context, p Principal) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error { return store.RevokeToken(tx, p.TokenHash) })
	s.tokens.drop(func(o store.TokenOwner) bool { return o.Hash == p.TokenHash })
	return err
}

// RevokeDevice revokes every token issued to deviceID (a lost phone), or the
// dashboard session listed under that device id.
func (s *Service) RevokeDevice(ctx context.Context, deviceID string) error {
	defer s.tokens.drop(func(o store.TokenOwner) bool { return o.DeviceID == deviceID })
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		device, err := store.RevokeDevice(tx, deviceID)
		if err != nil {
			return err
		}
		session, err := store.RevokeSession(tx, deviceID, KindSession)
		if err != nil {
			return err
		}
		if !device && !session {
			return domain.Errorf(domain.CodeNotFound, "device not found")
		}
		return nil
	})
}

// Me describes the caller: user, territories and devices.
func (s *Service) Me(ctx context.Context, p domain.Caller) (Profile, error) {
	var out Profile
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		u, err := store.GetUser(tx, p.UserID, false)
		if err != nil {
			return err
		}
		devices, err := s.devicesOf(tx, p.UserID)
		out = Profile{User: userInfo(u), TerritoryIDs: u.TerritoryIDs, Devices: devices}
		return err
	})
	return out, err
}

// ListDevices lists a user's devices; an unknown user is not found.
func (s *Service) ListDevices(ctx context.Context, userID string) ([]Device, error) {
	var out []Device
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if _, err := store.GetUser(tx, userID, false); err != nil {
			return err
		}
		var err error
		out, err = s.devicesOf(tx, userID)
		return err
	})
	return out, err
}

// devicesOf lists a user's devices, then the dashboard sessions that have not
// expired (revoked ones included, with revoked_at), each as a device.
func (s *Service) devicesOf(tx *store.Tx, userID string) ([]Device, error) {
	devices, err := store.ListDevices(tx, userID)
	if err != nil {
		return nil, err
	}
	sessions, err := store.ListSessions(tx, userID, KindSession)
	if err != nil {
		return nil, err
	}
	out := devicesFrom(devices)
	for _, ss := range sessions {
		name := SessionDeviceName
		out = append(out, Device{DeviceID: ss.DeviceID, DeviceName: &name, CreatedAt: ss.CreatedAt,
			RevokedAt: ss.RevokedAt})
	}
	return out, nil
}

// TouchDevice records a sync request of the caller's device for the sync-health
// report; nil arguments leave their column unchanged.
func (s *Service) TouchDevice(ctx context.Context, p domain.Caller, pulledAt, pushedAt *time.Time, pending *int64) error {
	return store.TouchDevice(s.db.Autocommit(ctx), p.UserID, p.DeviceID,
		store.DeviceTouch{PulledAt: pulledAt, PushedAt: pushedAt, Pending: pending})
}

func devicesFrom(ds []store.DeviceRecord) []Device {
	out := make([]Device, len(ds))
	for i, d := range ds {
		out[i] = Device{DeviceID: d.DeviceID, DeviceName: d.DeviceName, CreatedAt: d.CreatedAt,
			LastPullAt: d.LastPullAt, LastPushAt: d.LastPushAt, RevokedAt: d.RevokedAt}
	}
	return out
}
