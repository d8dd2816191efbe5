// Package wire holds the JSON shapes of the device-facing API (docs/protocol.md §3–4):
// what the server encodes and the device SDK decodes. It depends on nothing but
// the standard library and domain, so a client can import it without the server.
package wire

import (
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// ErrorBody is the contract's error envelope: {"error": {...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

type ErrorDetail struct {
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Fields  []domain.FieldError `json:"fields,omitempty"`
}

type LoginRequest struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	DeviceID   string `json:"device_id"`
	DeviceName string `json:"device_name,omitempty"`
}

type UserInfo struct {
	ID    string      `json:"id"`
	Email string      `json:"email"`
	Name  string      `json:"name"`
	Role  domain.Role `json:"role"`
}

type LoginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      UserInfo  `json:"user"`
}

type Device struct {
	DeviceID   string     `json:"device_id"`
	DeviceName *string    `json:"device_name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastPullAt *time.Time `json:"last_pull_at"`
	LastPushAt *time.Time `json:"last_push_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

type MeResponse struct {
	User         UserInfo `json:"user"`
	TerritoryIDs []string `json:"territory_ids"`
	Devices      []Device `json:"devices"`
}

// Change is one entry of a pull page. Row is set for upserts; Reason for deletes.
type Change struct {
	Table   string          `json:"table"`
	Op      string          `json:"op"`
	ID      string          `json:"id"`
	Version int64           `json:"version"`
	Row     json.RawMessage `json:"row,omitempty"`
	Reason  string          `json:"reason,omitempty"`
}

type PullResponse struct {
	Changes []Change `json:"changes"`
	Cursor  string   `json:"cursor"`
	HasMore bool     `json:"has_more"`
	Reset   bool     `json:"reset"`
}

// Mutation is one offline write. Row is a patch: only the fields the device
// changed (every required field for a create).
type Mutation struct {
	MutationID  string          `json:"mutation_id"`
	Table       string          `json:"table"`
	Op          string          `json:"op"`
	ID          string          `json:"id"`
	BaseVersion int64           `json:"base_version"`
	Row         json.RawMessage `json:"row,omitempty"`
}

// ChecksOwnText: the push engine checks each mutation (ids, table, op, the
// text of its row) and rejects a bad one alone, so strict decoding of the
// request leaves mutations to it.
func (Mutation) ChecksOwnText() {}

type PushRequest struct {
	DeviceID  string     `json:"device_id"`
	Mutations []Mutation `json:"mutations"`
	Pending   *int64     `json:"pending,omitempty"`
	// Results chooses the shape of applied results (docs/protocol.md §4.2):
	// ResultsLean (the default) or ResultsFull.
	Results string `json:"results,omitempty"`
}

// Shapes of applied push results. Lean: "fields" holds only what the device
// did not send (LeanFields); full: "row" holds the whole row, as before.
const (
	ResultsLean = "lean"
	ResultsFull = "full"
)

// Push result statuses.
const (
	StatusApplied  = "applied"
	StatusMerged   = "merged"
	StatusConflict = "conflict"
	StatusRejected = "rejected"
)

type MutationResult struct {
	MutationID string          `json:"mutation_id"`
	Status     string          `json:"status"`
	Version    int64           `json:"version,omitempty"`
	Row        json.RawMessage `json:"row,omitempty"`
	Fields     json.RawMessage `json:"fields,omitempty"` // lean applied results: see LeanFields
	ConflictID string          `json:"conflict_id,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Error      *ErrorDetail    `json:"error,omitempty"`
}

type PushResponse struct {
	Results []MutationResult `json:"results"`
}

// Limits of the push endpoint (docs/protocol.md §4.2) and of pull pages (§4.1).
const (
	MaxMutations     = 500
	MaxPushBodyBytes = 1 << 20
	DefaultPullLimit = 500
	MaxPullLimit     = 5000
)
