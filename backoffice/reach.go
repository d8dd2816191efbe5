package backoffice

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Caller is who calls a back-office service: the authenticated user.
type Caller struct {
	UserID string
	Role   domain.Role
}

// reach is the territories a back-office user works on (docs/protocol.md §2): all of
// them, or the subtree below the territories assigned to them.
type reach struct {
	all         bool
	territories []string // sorted; only when !all
}

// reachOf: directors and ops reach everything, and so does a coordinator with
// no territory assigned; managers and other coordinators reach their subtree;
// a rep reaches the territories assigned to them.
func reachOf(tx *store.Tx, c Caller) (reach, error) {
	if c.Role == domain.RoleDirector || c.Role == domain.RoleOps {
		return reach{all: true}, nil
	}
	assigned, err := store.UserTerritories(tx, c.UserID)
	if err != nil {
		return reach{}, err
	}
	switch c.Role {
	case domain.RoleCoordinator:
		if len(assigned) == 0 {
			return reach{all: true}, nil
		}
	case domain.RoleRep:
		slices.Sort(assigned)
		return reach{territories: assigned}, nil
	}
	sub, err := store.TerritorySubtree(tx, assigned)
	if err != nil {
		return reach{}, err
	}
	return reach{territories: sub}, nil
}

func (r reach) has(territoryID string) bool {
	if r.all {
		return true
	}
	_, ok := slices.BinarySearch(r.territories, territoryID)
	return ok
}

// hasAny reports whether any of ids is reached.
func (r reach) hasAny(ids []string) bool {
	return slices.ContainsFunc(ids, r.has)
}

// accountInReach loads an account the caller works on; one outside the reach
// is not found, so its existence does not leak.
func accountInReach(tx *store.Tx, r reach, id string) (domain.Account, error) {
	notFound := domain.Errorf(domain.CodeNotFound, "account not found")
	if !domain.IsUUID(id) {
		return domain.Account{}, notFound
	}
	acc, _, err := store.GetAccount(tx, id, false)
	if domain.ErrorCode(err) == domain.CodeNotFound || (err == nil && !r.has(acc.TerritoryID)) {
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
