package mobileapi

import (
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/wire"
)

// The device API's JSON for what auth answers: explicit converters, so a
// change of either side is a compile error here, not a silent change of the
// contract.

func loginJSON(t auth.Token) wire.LoginResponse {
	return wire.LoginResponse{Token: t.Secret, ExpiresAt: t.ExpiresAt, User: userJSON(t.User)}
}

func meJSON(p auth.Profile) wire.MeResponse {
	return wire.MeResponse{User: userJSON(p.User), TerritoryIDs: p.TerritoryIDs, Devices: DevicesJSON(p.Devices)}
}

// userJSON is a user as the API shows them (login, /v1/me).
func userJSON(u auth.User) wire.UserInfo {
	return wire.UserInfo{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role}
}

// DevicesJSON is a device list as the API shows it (/v1/me and the admin
// device list): never null.
func DevicesJSON(ds []auth.Device) []wire.Device {
	out := make([]wire.Device, len(ds))
	for i, d := range ds {
		out[i] = wire.Device{DeviceID: d.DeviceID, DeviceName: d.DeviceName, CreatedAt: d.CreatedAt,
			LastPullAt: d.LastPullAt, LastPushAt: d.LastPushAt, RevokedAt: d.RevokedAt}
	}
	return out
}
