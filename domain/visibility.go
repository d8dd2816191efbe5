package domain

import (
	"slices"
	"sort"
)

// Caller is who makes a request: the authenticated user, and on the device API
// the device their token was issued to (empty elsewhere). The HTTP layer builds
// it once per request; every service takes it as it is.
type Caller struct {
	UserID   string
	Role     Role
	DeviceID string
	// Via is where the caller works from, for the order history: the desk
	// page (ViaDesk) or the API (empty, read as ViaAPI).
	Via string
}

// TerritoryNode is a territory as the visibility rule sees it.
type TerritoryNode struct {
	ID       string
	Name     string
	ParentID *string
}

// TerritoryTree is the territory tree, or the part of it a question needs:
// the storage layer loads the territories under and above the ones that
// matter (store.LoadVisibility), or all of them.
type TerritoryTree struct {
	nodes map[string]TerritoryNode
	kids  map[string][]string
	// roots are the territories whose parent is not in the tree, by name
	// then id: the top level of a whole tree, which reports list.
	roots []string
}

// NewTerritoryTree builds a tree of nodes; a parent that is not among them
// makes its child a root of this part of the tree.
func NewTerritoryTree(nodes []TerritoryNode) TerritoryTree {
	t := TerritoryTree{nodes: make(map[string]TerritoryNode, len(nodes)), kids: map[string][]string{}}
	for _, n := range nodes {
		t.nodes[n.ID] = n
		if n.ParentID != nil {
			t.kids[*n.ParentID] = append(t.kids[*n.ParentID], n.ID)
		}
	}
	for _, k := range t.kids {
		sort.Strings(k)
	}
	for _, n := range nodes {
		if n.ParentID == nil || !t.Has(*n.ParentID) {
			t.roots = append(t.roots, n.ID)
		}
	}
	sort.Slice(t.roots, func(i, j int) bool {
		a, b := t.nodes[t.roots[i]], t.nodes[t.roots[j]]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	return t
}

// Roots lists the territories whose parent is not in the tree, sorted by
// name, then id.
func (t TerritoryTree) Roots() []string { return slices.Clone(t.roots) }

// Has reports whether id is a territory of the tree.
func (t TerritoryTree) Has(id string) bool { _, ok := t.nodes[id]; return ok }

// Name is the name of territory id, "" when the tree does not hold it.
func (t TerritoryTree) Name(id string) string { return t.nodes[id].Name }

// Parent is the parent of territory id, nil for a root.
func (t TerritoryTree) Parent(id string) *string { return t.nodes[id].ParentID }

// Children lists the territories directly below id, sorted by id.
func (t TerritoryTree) Children(id string) []string { return slices.Clone(t.kids[id]) }

// Len is the number of territories the tree holds.
func (t TerritoryTree) Len() int { return len(t.nodes) }

// IDs lists every territory of the tree, sorted.
func (t TerritoryTree) IDs() []string {
	out := make([]string, 0, len(t.nodes))
	for id := range t.nodes {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Subtree returns the roots the tree holds and every territory below them,
// sorted; roots the tree does not hold are left out.
func (t TerritoryTree) Subtree(roots []string) []string {
	seen := map[string]bool{}
	stack := slices.Clone(roots)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] || !t.Has(id) {
			continue
		}
		seen[id] = true
		stack = append(stack, t.kids[id]...)
	}
	return sortedKeys(seen)
}

// Ancestors returns the strict ancestors of ids, sorted.
func (t TerritoryTree) Ancestors(ids []string) []string {
	seen := map[string]bool{}
	for _, id := range ids {
		for p := t.Parent(id); p != nil && !seen[*p]; p = t.Parent(*p) {
			seen[*p] = true
		}
	}
	return sortedKeys(seen)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Viewer is what the visibility rule needs to know of a user, as stored when
// the request runs (not as in their token: ops may have changed the role or
// the territories since login). Found is false when no user has the id.
type Viewer struct {
	UserID   string
	Role     Role
	Found    bool
	Assigned []string // the territories assigned to the user
}

// Visibility is which territories' rows a user sees (docs/protocol.md §2).
// All is the whole organisation: every territory, now and created later, so
// queries need no territory filter. Otherwise Territories lists them, sorted.
// Tree is the part of the territory tree the rule was given, for callers that
// name or walk territories (Within, reports). Found is false when no user
// has the id (they see nothing).
type Visibility struct {
	UserID      string
	Role        Role
	Found       bool
	All         bool
	Territories []string
	Tree        TerritoryTree
}

// Visible is the one visibility rule, for sync, the back office and reports:
//
//   - directors and ops see every territory, and so does a coordinator with no
//     territory assigned (the whole organisation's order desk);
//   - managers and coordinators see the territories assigned to them and every
//     territory below them;
//   - reps see the territories assigned to them (and, row by row, the
//     accounts they own: ScopeFor);
//   - a user who does not exist, or has a role the rule does not know, sees
//     nothing.
//
// Deactivation is not the rule's concern: a deactivated user's tokens stop
// working (auth), so they never ask; and a conflict they wrote is still judged
// by what they could see.
//
// tree must hold the subtree below the assigned territories (store.LoadVisibility
// loads it); assigned territories it does not hold are not seen.
func Visible(v Viewer, tree TerritoryTree) Visibility {
	out := Visibility{UserID: v.UserID, Role: v.Role, Found: v.Found, Tree: tree, Territories: []string{}}
	if !v.Found {
		return out
	}
	switch v.Role {
	case RoleDirector, RoleOps:
		out.All = true
	case RoleCoordinator:
		if len(v.Assigned) == 0 {
			out.All = true
			break
		}
		out.Territories = tree.Subtree(v.Assigned)
	case RoleManager:
		out.Territories = tree.Subtree(v.Assigned)
	case RoleRep:
		for _, id := range v.Assigned {
			if tree.Has(id) {
				out.Territories = append(out.Territories, id)
			}
		}
		sort.Strings(out.Territories)
	}
	return out
}

// Sees reports whether rows of territory id are visible. A row's territory
// always exists (the storage enforces it), so under All every row's territory
// is seen without asking the tree; a territory a client names goes through
// Within, which does ask.
func (v Visibility) Sees(id string) bool {
	if v.All {
		return true
	}
	_, ok := slices.BinarySearch(v.Territories, id)
	return ok
}

// SeesAny reports whether any of ids is seen.
func (v Visibility) SeesAny(ids []string) bool { return slices.ContainsFunc(ids, v.Sees) }

// Empty reports whether nothing is visible.
func (v Visibility) Empty() bool { return !v.All && len(v.Territories) == 0 }

// Within narrows v to territory id and everything below it, for a client's
// territory_id filter. An id that names no territory is answered exactly like
// a territory outside v, not found, so that no answer tells the two apart
// (docs/api.md, "Who may do what"). The tree must hold id's subtree when it
// exists (store.LoadVisibility's focus).
func (v Visibility) Within(id string) (Visibility, *Error) {
	if id == "" {
		return v, nil
	}
	if !v.Tree.Has(id) || !v.Sees(id) {
		return v, Errorf(CodeNotFound, "territory not found")
	}
	sub := v.Tree.Subtree([]string{id})
	if !v.All {
		// A rep sees their territories, not what lies below them.
		sub = slices.DeleteFunc(sub, func(t string) bool { return !v.Sees(t) })
	}
	v.All, v.Territories = false, sub
	return v, nil
}
