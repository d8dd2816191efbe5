package engine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fieldsync/fieldsync/store"
)

// Pull phases. A cursor is normally in phaseLog. When the user's scope changed
// since the cursor was issued, the pull first walks phaseLeave (deletes for rows
// seen through keys the user lost) and phaseEnter (rows of the keys the user
// gained, history included), both bounded by the position the cursor had, then
// resumes the log from that position.
const (
	phaseLog   = ""
	phaseLeave = "leave"
	phaseEnter = "enter"
)

// cursorState is what a cursor encodes. Field names are short: cursors travel in
// URLs on every pull.
type cursorState struct {
	V int    `json:"v"`
	U string `json:"u"`           // user the cursor belongs to
	S int64  `json:"s"`           // scope snapshot the data up to Pos was sent for
	X uint64 `json:"x,omitempty"` // position in the log: xid
	Q int64  `json:"q,omitempty"` // position in the log: seq
	// During and after a scope transition:
	O  int64  `json:"o,omitempty"`  // the scope before the transition
	P  string `json:"p,omitempty"`  // phase
	PX uint64 `json:"px,omitempty"` // position within the phase
	PQ int64  `json:"pq,omitempty"`
	// The compaction horizon the cursor was last checked against. Only a horizon
	// that moved since can have taken a tombstone this cursor still needed.
	HX uint64 `json:"hx,omitempty"`
	HQ int64  `json:"hq,omitempty"`
}

func (c cursorState) pos() store.Pos      { return store.Pos{Xid: c.X, Seq: c.Q} }
func (c cursorState) phasePos() store.Pos { return store.Pos{Xid: c.PX, Seq: c.PQ} }
func (c cursorState) horizon() store.Pos  { return store.Pos{Xid: c.HX, Seq: c.HQ} }

const cursorVersion = 1

type cursorCodec struct{}

var errBadCursor = errors.New("malformed cursor")

// encode makes the cursor opaque and URL-safe.
func (cursorCodec) encode(c cursorState) string {
	c.V = cursorVersion
	b, _ := json.Marshal(c) // fixed struct of scalars always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// decode parses a cursor. Any failure is errBadCursor: the caller answers it with
// a reset, never with an error status.
func (cursorCodec) decode(s string) (cursorState, error) {
	var c cursorState
	if len(s) > 2048 {
		return c, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, fmt.Errorf("%w: %v", errBadCursor, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%w: %v", errBadCursor, err)
	}
	if c.V != cursorVersion || c.U == "" || c.S <= 0 || c.Q < 0 || c.PQ < 0 || c.O < 0 {
		return c, errBadCursor
	}
	switch c.P {
	case phaseLog, phaseLeave, phaseEnter:
	default:
		return c, errBadCursor
	}
	if c.P != phaseLog && c.O == 0 {
		return c, errBadCursor
	}
	return c, nil
}
