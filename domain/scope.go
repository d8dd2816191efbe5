package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// Role is what a user is in the sales organisation; it decides scope and rights.
type Role string

const (
	RoleRep         Role = "rep"
	RoleCoordinator Role = "coordinator"
	RoleManager     Role = "manager"
	RoleDirector    Role = "director"
	RoleOps         Role = "ops"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleRep, RoleCoordinator, RoleManager, RoleDirector, RoleOps:
		return true
	}
	return false
}

// Scope keys tie change-log entries to the users who may see them. Every synced
// row has a small set of keys; a user sees a row when the row's keys and the
// user's key set intersect. Keeping scope as plain strings lets the change log
// filter by one indexed column and lets a scope change be computed as a set
// difference of keys.
const (
	keyTerritory    = "t:"  // accounts (and their visits, orders, notes), users: member of territory
	keyOwner        = "o:"  // accounts (and dependents) owned by a key-account manager
	keyTerritoryRow = "tr:" // the territory row itself
	keyUser         = "u:"  // a user's own row
	KeyProducts     = "p"   // active products: everyone
	KeyInactive     = "px"  // inactive products: organisation-wide roles only
)

func TerritoryKey(id string) string    { return keyTerritory + id }
func OwnerKey(id string) string        { return keyOwner + id }
func TerritoryRowKey(id string) string { return keyTerritoryRow + id }
func UserKey(id string) string         { return keyUser + id }

// AccountKeys are the scope keys of an account and of every visit, order and note
// on it: the account's territory and, for key accounts, its owner.
func AccountKeys(territoryID string, ownerID *string) []string {
	keys := []string{TerritoryKey(territoryID)}
	if ownerID != nil && *ownerID != "" {
		keys = append(keys, OwnerKey(*ownerID))
	}
	return keys
}

// UserRowKeys are the scope keys of a user row: the user and each territory.
func UserRowKeys(id string, territoryIDs []string) []string {
	keys := []string{UserKey(id)}
	for _, t := range territoryIDs {
		keys = append(keys, TerritoryKey(t))
	}
	return keys
}

// ProductKeys: active products are visible to everyone, inactive ones only to
// organisation-wide roles.
func ProductKeys(active bool) []string {
	if active {
		return []string{KeyProducts}
	}
	return []string{KeyInactive}
}

// Scope is what a user may see through sync. All means organisation-wide (no key
// filter); otherwise Keys lists the keys. Tables lists the synced tables the role
// receives at all.
type Scope struct {
	All    bool
	Keys   []string
	Tables []string
}

// coordinatorTables: the order desk works on accounts and orders, not on visits
// or notes.
var coordinatorTables = []string{TableTerritories, TableUsers, TableProducts, TableAccounts, TableOrders}

// ScopeFor derives a user's sync scope from their visibility (Visible, the
// role table of docs/protocol.md §2): the keys of the territories they see,
// the territory rows above them (so a device can show the region a territory
// is in), their own user row, active products and, for a rep, the accounts
// they own.
func ScopeFor(v Visibility) Scope {
	s := Scope{Tables: SyncedTables}
	if v.Role == RoleCoordinator {
		s.Tables = coordinatorTables
	}
	if v.All {
		s.All = true
		return s
	}
	keys := []string{UserKey(v.UserID), KeyProducts}
	if v.Role == RoleRep {
		keys = append(keys, OwnerKey(v.UserID))
	}
	for _, t := range v.Territories {
		keys = append(keys, TerritoryKey(t), TerritoryRowKey(t))
	}
	for _, t := range v.Tree.Ancestors(v.Territories) {
		keys = append(keys, TerritoryRowKey(t))
	}
	s.Keys = dedupSorted(keys)
	return s
}

// Sees reports whether a row with the given keys is visible in the scope.
func (s Scope) Sees(table string, rowKeys []string) bool {
	if !s.HasTable(table) {
		return false
	}
	if s.All {
		return true
	}
	for _, k := range rowKeys {
		i := sort.SearchStrings(s.Keys, k)
		if i < len(s.Keys) && s.Keys[i] == k {
			return true
		}
	}
	return false
}

// HasTable reports whether the scope's role receives table at all.
func (s Scope) HasTable(table string) bool {
	for _, t := range s.Tables {
		if t == table {
			return true
		}
	}
	return false
}

// Fingerprint identifies the scope: two equal scopes have equal fingerprints.
func (s Scope) Fingerprint() string {
	h := sha256.New()
	if s.All {
		h.Write([]byte("all\n"))
	}
	h.Write([]byte(strings.Join(s.Tables, ",") + "\n"))
	h.Write([]byte(strings.Join(s.Keys, "\n")))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// KeyDiff returns the keys in a but not in b (both sorted).
func KeyDiff(a, b []string) []string {
	var out []string
	for _, k := range a {
		i := sort.SearchStrings(b, k)
		if i >= len(b) || b[i] != k {
			out = append(out, k)
		}
	}
	return out
}

func dedupSorted(keys []string) []string {
	sort.Strings(keys)
	out := keys[:0]
	for i, k := range keys {
		if i == 0 || k != keys[i-1] {
			out = append(out, k)
		}
	}
	return out
}
