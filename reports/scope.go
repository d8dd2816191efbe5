package reports

import (
	"context"
	"sort"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// kind names a report for the role check: coordinators read only orders.
type kind int

const (
	kindCoverage kind = iota
	kindOverdue
	kindOrders
	kindSyncHealth
	kindKPIs
)

var kindAction = map[kind]domain.Action{kindCoverage: domain.ActReportCoverage, kindOverdue: domain.ActReportOverdue,
	kindOrders: domain.ActReportOrders, kindSyncHealth: domain.ActReportSyncHealth, kindKPIs: domain.ActReportKPIs}

// authorize asks the role table (domain.Authorize) whether c may read report k.
func authorize(c domain.Caller, k kind) error {
	if domain.Authorize(c.Role, kindAction[k]) != nil {
		return domain.Errorf(domain.CodeForbidden, "this report is not available to the %s role", c.Role)
	}
	return nil
}

// scope is the territories a report covers: the caller's visibility (the one
// rule, domain.Visible) over the whole territory tree, whose names the
// reports show. All means the whole organisation, so queries need no
// territory filter (and accounts of territories created mid-request are not
// lost).
type scope struct {
	domain.Visibility
}

// name is the name of territory id.
func (s scope) name(id string) string { return s.Tree.Name(id) }

func (s scope) empty() bool { return s.Empty() }

// has reports whether territory id exists and lies in the scope (Sees alone
// answers true for any id when the scope is the whole organisation).
func (s scope) has(id string) bool { return s.Tree.Has(id) && s.Sees(id) }

// resolveScope checks the caller may read report k and returns the territories
// it covers (domain.Visible): a manager's assigned territories and everything
// below them; a coordinator's likewise, or everything when none are assigned;
// everything for a director. A territory_id narrows that to its subtree and
// must lie inside it: an unknown one is not found, as one outside is.
// scopeOf resolves the caller's scope in a read transaction of its own, for
// entry points whose later reads run in transactions of their own (pages,
// exports) or need the scope before they begin.
func (s *Service) scopeOf(ctx context.Context, c domain.Caller, k kind, territoryID string) (scope, error) {
	var sc scope
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		sc, err = s.resolveScope(tx, c, k, territoryID)
		return err
	})
	return sc, err
}

func (s *Service) resolveScope(tx *store.Tx, c domain.Caller, k kind, territoryID string) (scope, error) {
	if err := authorize(c, k); err != nil {
		return scope{}, err
	}
	var v domain.Visibility
	if s.page != nil && s.page.UserID == c.UserID {
		v = *s.page
	} else {
		var err error
		v, err = store.LoadVisibility(tx, store.VisibilityQuery{UserID: c.UserID, Focus: territoryID, WholeTree: true, Trees: s.trees})
		if err != nil {
			return scope{}, err
		}
	}
	n, verr := v.Within(territoryID)
	if verr != nil {
		return scope{}, verr
	}
	return scope{n}, nil
}

// ForPage returns the service for the reports of one page that caller c
// reads: c's visibility and the whole territory tree (26,400 territories at
// the head of sales' scale) are loaded once here, instead of once per report
// (the dashboard asks up to eight). Reports for other callers load their own.
func (s *Service) ForPage(ctx context.Context, c domain.Caller) (*Service, error) {
	var v domain.Visibility
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		v, err = store.LoadVisibility(tx, store.VisibilityQuery{UserID: c.UserID, WholeTree: true, Trees: s.trees})
		return err
	})
	if err != nil {
		return nil, err
	}
	p := *s
	p.page = &v
	return &p, nil
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
func (s *Service) ScopeTerritories(ctx context.Context, c domain.Caller) ([]TerritoryRef, error) {
	var out []TerritoryRef
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		sc, err := s.resolveScope(tx, c, kindCoverage, "")
		if err != nil {
			return err
		}
		var roots []string
		for _, id := range sc.Tree.IDs() {
			if p := sc.Tree.Parent(id); sc.Sees(id) && (p == nil || !sc.Sees(*p)) {
				roots = append(roots, id)
			}
		}
		sc.sortByName(roots)
		var walk func(id string, depth int)
		walk = func(id string, depth int) {
			out = append(out, TerritoryRef{ID: id, Name: sc.name(id), Depth: depth})
			kids := sc.Tree.Children(id)
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
		if s.name(ids[i]) != s.name(ids[j]) {
			return s.name(ids[i]) < s.name(ids[j])
		}
		return ids[i] < ids[j]
	})
}
