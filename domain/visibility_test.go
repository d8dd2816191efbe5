package domain_test

import (
	"slices"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

// The tree of the visibility tests: two regions, R (T1 with T1a below it, and
// T2) and S (T3).
var (
	idR, idS = "r", "s"
	visTree  = domain.NewTerritoryTree([]domain.TerritoryNode{
		{ID: idR, Name: "R"}, {ID: "t1", Name: "T1", ParentID: &idR}, {ID: "t1a", Name: "T1a", ParentID: ptr("t1")},
		{ID: "t2", Name: "T2", ParentID: &idR}, {ID: idS, Name: "S"}, {ID: "t3", Name: "T3", ParentID: &idS},
	})
)

func TestVisible(t *testing.T) {
	everything := []string(nil) // All
	for _, tc := range []struct {
		name     string
		viewer   domain.Viewer
		want     []string // nil: the whole organisation
		sees     []string // spot checks of Sees
		notSeen  []string
		ownerKey bool
	}{
		{"Rep", domain.Viewer{Role: domain.RoleRep, Assigned: []string{"t1"}}, []string{"t1"},
			[]string{"t1"}, []string{"t1a", "r", "t2", "t3"}, true},
		{"RepTwoTerritories", domain.Viewer{Role: domain.RoleRep, Assigned: []string{"t3", "t2"}}, []string{"t2", "t3"},
			[]string{"t2", "t3"}, []string{"t1"}, true},
		{"RepNoTerritory", domain.Viewer{Role: domain.RoleRep}, []string{}, nil, []string{"t1"}, true},
		{"ManagerSubtree", domain.Viewer{Role: domain.RoleManager, Assigned: []string{idR}}, []string{"r", "t1", "t1a", "t2"},
			[]string{"t1a"}, []string{"s", "t3"}, false},
		{"ManagerOfLeaf", domain.Viewer{Role: domain.RoleManager, Assigned: []string{"t1"}}, []string{"t1", "t1a"},
			nil, []string{"r", "t2"}, false},
		{"ManagerNoTerritory", domain.Viewer{Role: domain.RoleManager}, []string{}, nil, []string{"r"}, false},
		{"CoordinatorSubtree", domain.Viewer{Role: domain.RoleCoordinator, Assigned: []string{idS}}, []string{"s", "t3"},
			nil, []string{"r", "t1"}, false},
		{"CoordinatorNoTerritoryIsOrganisationWide", domain.Viewer{Role: domain.RoleCoordinator}, everything,
			[]string{"r", "t3", "created-later"}, nil, false},
		{"Director", domain.Viewer{Role: domain.RoleDirector, Assigned: []string{"t1"}}, everything,
			[]string{"s", "t1a"}, nil, false},
		{"Ops", domain.Viewer{Role: domain.RoleOps}, everything, []string{"r"}, nil, false},
		{"UnknownAssignedTerritory", domain.Viewer{Role: domain.RoleManager, Assigned: []string{"gone", "t2"}}, []string{"t2"},
			nil, []string{"gone"}, false},
		{"UnknownRole", domain.Viewer{Role: "boss", Assigned: []string{idR}}, []string{}, nil, []string{"r"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.viewer.UserID, tc.viewer.Found = "u1", true
			v := domain.Visible(tc.viewer, visTree)
			if tc.want == nil {
				if !v.All {
					t.Fatalf("All = false, territories %v; want the whole organisation", v.Territories)
				}
			} else if v.All || !slices.Equal(v.Territories, tc.want) {
				t.Fatalf("All %v, territories %v; want %v", v.All, v.Territories, tc.want)
			}
			for _, id := range tc.sees {
				if !v.Sees(id) {
					t.Errorf("does not see %s", id)
				}
			}
			for _, id := range tc.notSeen {
				if v.Sees(id) {
					t.Errorf("sees %s", id)
				}
			}
			if got := slices.Contains(domain.ScopeFor(v).Keys, domain.OwnerKey("u1")); got != tc.ownerKey {
				t.Errorf("owner key in the sync scope: %v, want %v", got, tc.ownerKey)
			}
		})
	}
}

func TestVisible_UserNotFoundSeesNothing(t *testing.T) {
	for _, role := range []domain.Role{domain.RoleRep, domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector, domain.RoleOps} {
		v := domain.Visible(domain.Viewer{UserID: "u1", Role: role, Assigned: []string{idR}}, visTree)
		if v.All || !v.Empty() || v.Sees("r") {
			t.Errorf("%s not found: %+v", role, v)
		}
	}
}

// TestVisibility_Within: a territory_id filter narrows to its subtree; an
// unknown territory answers exactly like one outside the caller's scope,
// whoever asks, the organisation-wide roles included.
func TestVisibility_Within(t *testing.T) {
	rep := domain.Viewer{Role: domain.RoleRep, Assigned: []string{"t1"}}
	mgr := domain.Viewer{Role: domain.RoleManager, Assigned: []string{idR}}
	coord := domain.Viewer{Role: domain.RoleCoordinator}
	dir := domain.Viewer{Role: domain.RoleDirector}
	ops := domain.Viewer{Role: domain.RoleOps}
	outside := domain.Errorf(domain.CodeNotFound, "territory not found")
	for _, tc := range []struct {
		name   string
		viewer domain.Viewer
		id     string
		want   []string
	}{
		{"RepOwnTerritoryNotBelow", rep, "t1", []string{"t1"}},
		{"RepOtherTerritory", rep, "t2", nil},
		{"RepUnknown", rep, "nope", nil},
		{"ManagerSubtree", mgr, "t1", []string{"t1", "t1a"}},
		{"ManagerWholeRegion", mgr, idR, []string{"r", "t1", "t1a", "t2"}},
		{"ManagerOutside", mgr, "t3", nil},
		{"ManagerUnknown", mgr, "nope", nil},
		{"CoordinatorOrganisationWide", coord, idS, []string{"s", "t3"}},
		{"CoordinatorUnknown", coord, "nope", nil},
		{"DirectorLeaf", dir, "t1a", []string{"t1a"}},
		{"DirectorUnknown", dir, "nope", nil},
		{"OpsRegion", ops, idS, []string{"s", "t3"}},
		{"OpsUnknown", ops, "nope", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.viewer.UserID, tc.viewer.Found = "u1", true
			got, err := domain.Visible(tc.viewer, visTree).Within(tc.id)
			if tc.want == nil {
				if err == nil || err.Code != outside.Code || err.Message != outside.Message || err.Fields != nil {
					t.Fatalf("Within(%s) = %v, %v; want %v", tc.id, got.Territories, err, outside)
				}
				return
			}
			if err != nil || got.All || !slices.Equal(got.Territories, tc.want) {
				t.Fatalf("Within(%s) = %v (all %v), %v; want %v", tc.id, got.Territories, got.All, err, tc.want)
			}
		})
	}
	v := domain.Visible(domain.Viewer{UserID: "u1", Role: domain.RoleDirector, Found: true}, visTree)
	if same, err := v.Within(""); err != nil || !same.All {
		t.Errorf("Within(\"\") = %+v, %v; want v unchanged", same, err)
	}
}

func TestScopeFor(t *testing.T) {
	rep := domain.Visible(domain.Viewer{UserID: "u1", Role: domain.RoleRep, Found: true, Assigned: []string{"t1a"}}, visTree)
	s := domain.ScopeFor(rep)
	want := []string{domain.KeyProducts, domain.OwnerKey("u1"), domain.TerritoryKey("t1a"),
		domain.TerritoryRowKey("r"), domain.TerritoryRowKey("t1"), domain.TerritoryRowKey("t1a"), domain.UserKey("u1")}
	slices.Sort(want)
	if s.All || !slices.Equal(s.Keys, want) || !slices.Equal(s.Tables, domain.SyncedTables) {
		t.Errorf("rep scope = %+v, want keys %v", s, want)
	}
	coord := domain.ScopeFor(domain.Visible(domain.Viewer{UserID: "c", Role: domain.RoleCoordinator, Found: true}, visTree))
	if !coord.All || coord.HasTable(domain.TableVisits) || !coord.HasTable(domain.TableOrders) {
		t.Errorf("coordinator scope = %+v", coord)
	}
	dir := domain.ScopeFor(domain.Visible(domain.Viewer{UserID: "d", Role: domain.RoleDirector, Found: true}, visTree))
	if !dir.All || !dir.HasTable(domain.TableVisits) {
		t.Errorf("director scope = %+v", dir)
	}
}
