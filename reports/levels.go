package reports

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Level asks for one level of the territory tree and one page of reps
// (docs/reports.md "Levels and pages"). At the head of sales' scale (tens of
// thousands of territories and reps) nobody reads the whole tree in one
// answer; the level rows add up their subtrees so the totals and the rows
// read alike, and the reps come a page at a time.
type Level struct {
	// All answers the whole tree and every rep (depth=all): the answer the
	// sync contract describes, every territory with its own figures.
	All bool
	// Auto: the request named no depth. The whole tree is then answered for
	// a scope of fewer than AutoLevelTerritories territories (the contract's
	// answer, every test world, a regional manager), one level above: a
	// director who asks GET /v1/reports/coverage at the head of sales' scale
	// gets a first level of ~50 KB, not 20 MB of 40,000 rows nobody reads.
	// The answer's depth says which it is (forScope).
	Auto bool
	// Limit is the page size of the rep list; Cursor the reps' next_cursor of
	// the previous page ("" for the first).
	Limit  int
	Cursor string
	// TerritoryLimit and TerritoryCursor page the level's territories the
	// same way: a flat tree (the 1M fixture has 6,600 regions at its top)
	// is as long as a rep list.
	TerritoryLimit  int
	TerritoryCursor string
}

// territories returns l's page of the territory rows instead of the reps'.
func (l Level) territories() Level {
	l.Limit, l.Cursor = l.TerritoryLimit, l.TerritoryCursor
	return l
}

// AutoLevelTerritories is the scope size from which a request without depth
// is answered one level at a time (Level.Auto).
const AutoLevelTerritories = 1000

// forScope resolves Auto for sc.
func (l Level) forScope(sc scope) Level {
	if !l.Auto {
		return l
	}
	l.Auto = false
	l.All = sc.size() < AutoLevelTerritories
	return l
}

// WholeTree is the Level of the reports' original answer.
var WholeTree = Level{All: true}

// depth is the depth parameter's value for l.
func (l Level) depth() string {
	if l.All {
		return "all"
	}
	return "1"
}

// Default and largest rep page sizes.
const (
	DefaultRepLimit = 100
	MaxRepLimit     = 1000
)

// ParseLevel reads depth ("all": the whole tree, as the contract describes
// the reports; "1": one level; "": either, by the scope's size, see Auto),
// limit and cursor (reps, at depth 1).
// Limit 0 means the default.
func ParseLevel(depth string, limit int, cursor string) (Level, error) {
	var l Level
	switch depth {
	case "1":
	case "":
		l.All, l.Auto = true, true
	case "all":
		l.All = true
	default:
		return l, badParam("depth", "must be 1 or all")
	}
	l.Limit = limit
	if l.Limit <= 0 {
		l.Limit = DefaultRepLimit
	}
	l.Limit = min(l.Limit, MaxRepLimit)
	if _, err := decodeRepCursor(cursor); err != nil {
		return l, err
	}
	l.Cursor = cursor
	l.TerritoryLimit = DefaultRepLimit
	return l, nil
}

// WithTerritoryPage sets the territory page: limit (0: the default) and
// cursor (territories_next_cursor of the previous page).
func (l Level) WithTerritoryPage(limit int, cursor string) (Level, error) {
	if limit <= 0 {
		limit = DefaultRepLimit
	}
	l.TerritoryLimit = min(limit, MaxRepLimit)
	if _, err := decodeRepCursor(cursor); err != nil {
		return l, badParam("territory_cursor", "not a cursor of this report")
	}
	l.TerritoryCursor = cursor
	return l, nil
}

// levelRows returns the territories a level shows: the children of the
// territory the scope was narrowed to, else the scope's top territories (those
// whose parent the caller does not see), sorted by name.
func (s scope) levelRows(focus string) []string {
	if focus == "" && s.All {
		// Everything is seen: the top level is the tree's roots, which the
		// tree keeps sorted by name (26,400 territories, 6,600 roots at the
		// head of sales' scale).
		return s.Tree.Roots()
	}
	var rows []string
	if focus != "" {
		for _, k := range s.Tree.Children(focus) {
			if s.has(k) {
				rows = append(rows, k)
			}
		}
	} else {
		ids := s.Territories
		if s.All {
			ids = s.Tree.IDs()
		}
		for _, id := range ids {
			if p := s.Tree.Parent(id); s.has(id) && (p == nil || !s.has(*p)) {
				rows = append(rows, id)
			}
		}
	}
	s.sortByName(rows)
	return rows
}

// rowOf maps each territory of the scope to the level row it adds up into
// (itself or its ancestor among rows); territories under no row (the focus
// itself) map to "".
func (s scope) rowOf(rows []string) func(id string) string {
	isRow := make(map[string]bool, len(rows))
	for _, r := range rows {
		isRow[r] = true
	}
	return func(id string) string {
		for {
			if isRow[id] {
				return id
			}
			p := s.Tree.Parent(id)
			if p == nil || !s.has(*p) {
				return ""
			}
			id = *p
		}
	}
}

// subCount is the number of sub-territories of id the scope shows.
func (s scope) subCount(id string) int {
	n := 0
	for _, k := range s.Tree.Children(id) {
		if s.has(k) {
			n++
		}
	}
	return n
}

// repCursor is the sort key (name, id) of the last rep of a page.
type repCursor struct {
	Name string `json:"n"`
	ID   string `json:"i"`
}

func (c repCursor) encode() string {
	b, _ := json.Marshal(c) // plain struct
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeRepCursor(s string) (*repCursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c repCursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == "" {
		return nil, badParam("cursor", "not a cursor of this report")
	}
	return &c, nil
}

// pageRows cuts the page after l's cursor out of n rows sorted by (name, id),
// and returns its bounds and the next cursor (nil on the last page).
func (l Level) pageRows(n int, key func(i int) (name, id string)) (lo, hi int, next *string) {
	if l.All {
		return 0, n, nil
	}
	c, _ := decodeRepCursor(l.Cursor) // ParseLevel checked it
	if c != nil {
		for lo < n {
			name, id := key(lo)
			if cmp := strings.Compare(name, c.Name); cmp > 0 || (cmp == 0 && id > c.ID) {
				break
			}
			lo++
		}
	}
	limit := l.Limit
	if limit <= 0 {
		limit = DefaultRepLimit
	}
	hi = min(lo+limit, n)
	if hi < n {
		name, id := key(hi - 1)
		s := repCursor{Name: name, ID: id}.encode()
		next = &s
	}
	return lo, hi, next
}

// Breadcrumbs lists the territories from the top of the caller's scope down to
// territoryID, for the dashboard's drill-down; none for "" (the top level).
// An unknown territory or one outside the scope is not found.
func (s *Service) Breadcrumbs(ctx context.Context, c domain.Caller, territoryID string) ([]TerritoryRef, error) {
	var out []TerritoryRef
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		sc, err := s.resolveScope(tx, c, kindCoverage, "")
		if err != nil || territoryID == "" {
			return err
		}
		if !sc.has(territoryID) {
			return domain.Errorf(domain.CodeNotFound, "territory not found")
		}
		for id := &territoryID; id != nil && sc.has(*id); id = sc.Tree.Parent(*id) {
			out = append(out, TerritoryRef{ID: *id, Name: sc.name(*id)})
		}
		slices.Reverse(out)
		for i := range out {
			out[i].Depth = i
		}
		return nil
	})
	return out, err
}
