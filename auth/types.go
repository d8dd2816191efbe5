package auth

import (
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// What the service answers, in its own terms; the HTTP handlers map these to
// the device API's JSON (mobileapi), so the wire format does not reach here.

// User is a signed-in user's public description.
type User struct {
	ID    string
	Email string
	Name  string
	Role  domain.Role
}

// Token is a device token Login issued: Secret is shown once, to the device.
type Token struct {
	Secret    string
	ExpiresAt time.Time
	User      User
}

// Device is a device a user signed in on, or a dashboard session listed as one
// (SessionDevicePrefix).
type Device struct {
	DeviceID   string
	DeviceName *string
	CreatedAt  time.Time
	LastPullAt *time.Time
	LastPushAt *time.Time
	RevokedAt  *time.Time
}

// Profile is what a user is told about themselves: who they are, their
// territories and their devices.
type Profile struct {
	User         User
	TerritoryIDs []string
	Devices      []Device
}
