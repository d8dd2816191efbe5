package backoffice

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// reachOf is what c works on: the territories of the one visibility rule
// (domain.Visible, docs/protocol.md §2) as stored now.
func reachOf(tx *store.Tx, c domain.Caller) (domain.Visibility, error) {
	return store.LoadVisibility(tx, store.VisibilityQuery{UserID: c.UserID})
}

// reachWithin is c's reach narrowed to territoryID's subtree when a filter
// names one; an unknown territory is not found, as one outside the reach is.
func reachWithin(tx *store.Tx, c domain.Caller, territoryID string) (domain.Visibility, error) {
	r, err := store.LoadVisibility(tx, store.VisibilityQuery{UserID: c.UserID, Focus: territoryID})
	if err != nil {
		return r, err
	}
	n, verr := r.Within(territoryID)
	if verr != nil {
		return r, verr
	}
	return n, nil
}

// accountInReach loads an account the caller works on; one outside the reach
// is not found, so its existence does not leak.
func accountInReach(tx *store.Tx, r domain.Visibility, id string) (domain.Account, error) {
	notFound := domain.Errorf(domain.CodeNotFound, "account not found")
	if !domain.IsUUID(id) {
		return domain.Account{}, notFound
	}
	acc, _, err := store.GetAccount(tx, id, false)
	if domain.ErrorCode(err) == domain.CodeNotFound || (err == nil && !r.Sees(acc.TerritoryID)) {
		return domain.Account{}, notFound
	}
	return acc, err
}

// Keyset pages: the cursor is the (time, id) of the last item, as base64url
// JSON so clients treat it as opaque.
type keyset struct {
	T  time.Time `json:"t"`
	ID string    `json:"id"`
}

func encodeKeyset(t time.Time, id string) *string {
	b, _ := json.Marshal(keyset{T: t.UTC(), ID: id}) // a time and a string always marshal
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// decodeKeyset returns nil for the first page. A cursor this service did not
// issue is a bad request, not a silent restart.
func decodeKeyset(c string) (*keyset, error) {
	if c == "" {
		return nil, nil
	}
	var k keyset
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		err = json.Unmarshal(b, &k)
	}
	if err != nil || !domain.IsUUID(k.ID) || k.T.IsZero() {
		return nil, &domain.Error{Code: domain.CodeBadRequest, Message: "invalid query parameter",
			Fields: []domain.FieldError{{Field: "cursor", Message: "is not a cursor of this list"}}}
	}
	return &k, nil
}

func badParam(field, msg string) error {
	return &domain.Error{Code: domain.CodeBadRequest, Message: "invalid query parameter",
		Fields: []domain.FieldError{{Field: field, Message: msg}}}
}
