package reports

import (
	"context"
	"fmt"
	"sort"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Caller is who asks for a report.
type Caller struct {
	UserID string
	Role   domain.Role
}

// kind names a report for the role check: coordinators read only orders.
type kind int

const (
	kindCoverage kind = iota
	kindOverdue
	kindOrders
	kindSyncHealth
)

var kindAction = map[kind]domain.Action{kindCoverage: domain.ActReportCoverage, kindOverdue: domain.ActReportOverdue,
	kindOrders: domain.ActReportOrders, kindSyncHealth: domain.ActReportSyncHealth}

// authorize asks the role table (domain.Authorize) whether c may read report k.
func authorize(c Caller, k kind) error {
	if domain.Authorize(c.Role, kindAction[k]) != nil {
		return domain.Errorf(domain.CodeForbidden, "this report is not available to the %s role", c.Role)
	}
	return nil
}

type territory struct {
	ID       string
	Name     string
	ParentID *string
}

// scope is the set of territories a report covers. all means the whole
// organisation, so queries need no territory filter (and accounts of territories
// created mid-request are not lost).
type scope struct {
	all     bool
	ids     []string // sorted; only when !all
	names   map[string]string
	parents map[string]*string
	kids    map[string][]string
}

func (s scope) has(id string) bool {
	if s.all {
		_, ok := s.names[id]
		return ok
	}
	i := sort.SearchStrings(s.ids, id)
	return i < len(s.ids) && s.ids[i] == id
}

// subtree returns roots and every territory below them, sorted.
func (s scope) subtree(roots []string) []string {
	seen := map[string]bool{}
	stack := append([]string{}, roots...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		if _, ok := s.names[id]; !ok {
			continue
		}
		seen[id] = true
		stack = append(stack, s.kids[id]...)
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (s scope) empty() bool { return !s.all && len(s.ids) == 0 }

// resolveScope checks the caller may read report k and returns the territories
// it covers: a manager's assigned territories and everything below them; a
// coordinator's likewise, or everything when none are assigned; everything for a
// director. A territory_id narrows that to its subtree and must lie inside it.
func resolveScope(tx *store.Tx, c Caller, k kind, territoryID string) (scope, error) {
	if err := authorize(c, k); err != nil {
		return scope{}, err
	}
	s, err := loadTerritories(tx)
	if err != nil {
		return s, err
	}
	if c.Role != domain.RoleDirector {
		assigned, err := store.UserTerritories(tx, c.UserID)
		if err != nil {
			return s, err
		}
		if !(c.Role == domain.RoleCoordinator && len(assigned) == 0) {
			s.all, s.ids = false, s.subtree(assigned)
		}
	}
	if territoryID == "" {
		return s, nil
	}
	if !s.has(territoryID) {
		return s, domain.Errorf(domain.CodeNotFound, "territory not found")
	}
	s.all, s.ids = false, s.subtree([]string{territoryID})
	return s, nil
}

func loadTerritories(tx *store.Tx) (scope, error) {
	var rows []territory
	if err := tx.Query(&rows, "SELECT id, name, parent_id FROM territories"); err != nil {
		return scope{}, fmt.Errorf("load territories: %w", err)
	}
	s := scope{all: true, names: make(map[string]string, len(rows)),
		parents: make(map[string]*string, len(rows)), kids: map[string][]string{}}
	for _, t := range rows {
		s.names[t.ID] = t.Name
		s.parents[t.ID] = t.ParentID
		if t.ParentID != nil {
			s.kids[*t.ParentID] = append(s.kids[*t.ParentID], t.ID)
		}
	}
	return s, nil
}

// TerritoryRef names a territory of a caller's scope; Depth is its level below
// the scope's top.
type TerritoryRef struct {
	ID    string
	Name  string
	Depth int
}

// ScopeTerritories lists the territories the caller's reports cover, as a tree
// in depth-first order, for a territory picker.
func (s *Service) ScopeTerritories(ctx context.Context, c Caller) ([]TerritoryRef, error) {
	var out []TerritoryRef
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		sc, err := resolveScope(tx, c, kindCoverage, "")
		if err != nil {
			return err
		}
		var roots []string
		for id := range sc.names {
			if sc.has(id) && (sc.parents[id] == nil || !sc.has(*sc.parents[id])) {
				roots = append(roots, id)
			}
		}
		sc.sortByName(roots)
		var walk func(id string, depth int)
		walk = func(id string, depth int) {
			out = append(out, TerritoryRef{ID: id, Name: sc.names[id], Depth: depth})
			kids := append([]string{}, sc.kids[id]...)
			sc.sortByName(kids)
			for _, k := range kids {
				walk(k, depth+1)
			}
		}
		for _, r := range roots {
			walk(r, 0)
		}
		return nil
	})
	return out, err
}

func (s scope) sortByName(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		if s.names[ids[i]] != s.names[ids[j]] {
			return s.names[ids[i]] < s.names[ids[j]]
		}
		return ids[i] < ids[j]
	})
}
