package domain_test

import (
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

func TestAuthorize_RoleTable(t *testing.T) {
	// docs/protocol.md §2, as docs/api.md "Who may do what" spells it out.
	want := map[domain.Action]string{
		domain.ActResolveConflict:  "coordinator manager",
		domain.ActTransitionOrder:  "coordinator",
		domain.ActPlanVisit:        "manager",
		domain.ActListOrders:       "coordinator manager director ops",
		domain.ActReportCoverage:   "manager director",
		domain.ActReportOrders:     "coordinator manager director",
		domain.ActReportSyncHealth: "manager director",
		domain.ActAdmin:            "ops",
		domain.ActPull:             "rep coordinator manager director ops",
	}
	for a, roles := range want {
		got := ""
		for _, r := range []domain.Role{domain.RoleRep, domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector, domain.RoleOps} {
			if domain.Authorize(r, a) == nil {
				if got != "" {
					got += " "
				}
				got += string(r)
			}
		}
		if got != roles {
			t.Errorf("%s: granted to %q, want %q", a, got, roles)
		}
	}
}

func TestCheckWrite(t *testing.T) {
	rep := domain.Caller{UserID: "r1", Role: domain.RoleRep}
	mgr := domain.Caller{UserID: "m1", Role: domain.RoleManager}
	coord := domain.Caller{UserID: "c1", Role: domain.RoleCoordinator}
	cases := []struct {
		name string
		a    domain.Caller
		w    domain.RowWrite
		want domain.Code
	}{
		{"RepOwnVisit", rep, domain.RowWrite{Table: "visits", Kind: domain.WriteUpdate, PrevOwner: "r1", Owner: "r1"}, ""},
		{"RepOthersVisit", rep, domain.RowWrite{Table: "visits", Kind: domain.WriteUpdate, PrevOwner: "r2", Owner: "r2"}, domain.CodeForbidden},
		{"RepCreditsOther", rep, domain.RowWrite{Table: "visits", Kind: domain.WriteCreate, Owner: "r2"}, domain.CodeForbidden},
		{"RepOthersNoteDelete", rep, domain.RowWrite{Table: "account_notes", Kind: domain.WriteDelete, PrevOwner: "m1"}, domain.CodeForbidden},
		{"RepSubmits", rep, domain.RowWrite{Table: "orders", Kind: domain.WriteUpdate, PrevOwner: "r1", Owner: "r1", PrevStatus: "draft", Status: "submitted"}, ""},
		{"RepConfirms", rep, domain.RowWrite{Table: "orders", Kind: domain.WriteUpdate, PrevOwner: "r1", Owner: "r1", PrevStatus: "submitted", Status: "confirmed"}, domain.CodeForbidden},
		{"RepAccountContact", rep, domain.RowWrite{Table: "accounts", Kind: domain.WriteUpdate, Changed: []string{"phone"}}, ""},
		{"RepAccountName", rep, domain.RowWrite{Table: "accounts", Kind: domain.WriteUpdate, Changed: []string{"name"}}, domain.CodeForbidden},
		{"ManagerPlans", mgr, domain.RowWrite{Table: "visits", Kind: domain.WriteCreate, Owner: "r1", Status: "planned", Changed: []string{"account_id", "rep_id", "planned_at"}}, ""},
		{"ManagerCompletes", mgr, domain.RowWrite{Table: "visits", Kind: domain.WriteCreate, Owner: "r1", Status: "completed", Changed: []string{"status"}}, domain.CodeForbidden},
		{"ManagerReports", mgr, domain.RowWrite{Table: "visits", Kind: domain.WriteCreate, Owner: "r1", Status: "planned", Changed: []string{"report"}}, domain.CodeForbidden},
		{"ManagerEditsVisit", mgr, domain.RowWrite{Table: "visits", Kind: domain.WriteUpdate, PrevOwner: "r1", Owner: "r1"}, domain.CodeForbidden},
		{"ManagerNote", mgr, domain.RowWrite{Table: "account_notes", Kind: domain.WriteCreate, Owner: "m1"}, domain.CodeForbidden},
		{"CoordinatorConfirms", coord, domain.RowWrite{Table: "orders", Kind: domain.WriteUpdate, PrevStatus: "submitted", Status: "confirmed", Changed: []string{"status"}}, ""},
		{"CoordinatorEditsLines", coord, domain.RowWrite{Table: "orders", Kind: domain.WriteUpdate, PrevStatus: "submitted", Status: "submitted", Changed: []string{"lines"}}, domain.CodeForbidden},
		{"DirectorNothing", domain.Caller{UserID: "d", Role: domain.RoleDirector}, domain.RowWrite{Table: "visits", Kind: domain.WriteCreate, Status: "planned"}, domain.CodeForbidden},
		{"OpsNothing", domain.Caller{UserID: "o", Role: domain.RoleOps}, domain.RowWrite{Table: "orders", Kind: domain.WriteUpdate, PrevStatus: "submitted", Status: "confirmed"}, domain.CodeForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := domain.CheckWrite(c.a, c.w)
			if (err == nil) != (c.want == "") || (err != nil && err.Code != c.want) {
				t.Errorf("CheckWrite = %v, want %q", err, c.want)
			}
		})
	}
}

func TestCheckResolution(t *testing.T) {
	rep := domain.Caller{UserID: "r1", Role: domain.RoleRep}
	mgr := domain.Caller{UserID: "m1", Role: domain.RoleManager}
	coord := domain.Caller{UserID: "c1", Role: domain.RoleCoordinator}
	ops := domain.Caller{UserID: "o1", Role: domain.RoleOps}
	submit := domain.RowWrite{Table: "orders", Kind: domain.WriteUpdate, PrevOwner: "r1", Owner: "r1", PrevStatus: "draft", Status: "submitted"}
	ship := domain.RowWrite{Table: "orders", Kind: domain.WriteUpdate, PrevOwner: "r1", Owner: "r1", PrevStatus: "confirmed", Status: "shipped"}
	lines := domain.RowWrite{Table: "orders", Kind: domain.WriteUpdate, PrevOwner: "r1", Owner: "r1", PrevStatus: "draft", Status: "draft", Changed: []string{"lines"}}
	visit := domain.RowWrite{Table: "visits", Kind: domain.WriteCreate, Owner: "r1", Status: "completed", Changed: []string{"report"}}
	cases := []struct {
		name             string
		resolver, writer domain.Caller
		w                domain.RowWrite
		want             domain.Code
	}{
		{"CoordinatorTakesSubmit", coord, rep, submit, ""},
		{"ManagerTakesLines", mgr, rep, lines, ""},
		{"ManagerTakesCompletedVisit", mgr, rep, visit, ""},
		{"ManagerSubmits", mgr, rep, submit, domain.CodeForbidden},
		{"CoordinatorShipsThroughConflict", coord, rep, ship, domain.CodeForbidden},
		{"CoordinatorVisit", coord, rep, visit, domain.CodeForbidden},
		{"VisitCreditedToAnother", mgr, rep, domain.RowWrite{Table: "visits", Kind: domain.WriteCreate, Owner: "r2", Status: "planned"}, domain.CodeForbidden},
		{"NoteByAnother", mgr, rep, domain.RowWrite{Table: "account_notes", Kind: domain.WriteCreate, Owner: "m2"}, domain.CodeForbidden},
		{"OpsResolve", ops, rep, lines, domain.CodeForbidden},
		{"WriterGone", mgr, domain.Caller{}, lines, domain.CodeForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := domain.CheckResolution(c.resolver, c.writer, c.w)
			if (err == nil) != (c.want == "") || (err != nil && err.Code != c.want) {
				t.Errorf("CheckResolution = %v, want %q", err, c.want)
			}
		})
	}
}

// TestAuthorize_AttachmentsFollowScope: the upload lane is for the roles that
// push attachment rows, the downloads for the roles whose scope receives the
// attachments table, so the route-level answer (403) never contradicts the
// rows a role syncs.
func TestAuthorize_AttachmentsFollowScope(t *testing.T) {
	for _, r := range []domain.Role{domain.RoleRep, domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector, domain.RoleOps} {
		scope := domain.ScopeFor(domain.Visibility{UserID: "u", Role: r, Found: true, All: true})
		if read := domain.Authorize(r, domain.ActReadAttachment) == nil; read != scope.HasTable(domain.TableAttachments) {
			t.Errorf("%s: may read attachments %v, but its scope has the table: %v", r, read, scope.HasTable(domain.TableAttachments))
		}
		push := domain.MayPush(r, domain.TableAttachments, domain.WriteCreate) == nil
		if up := domain.Authorize(r, domain.ActUploadAttachment) == nil; up != push {
			t.Errorf("%s: may upload %v, but may push attachment rows: %v", r, up, push)
		}
	}
}

func TestCheckUpload(t *testing.T) {
	rep := domain.Caller{UserID: "r1", Role: domain.RoleRep}
	mgr := domain.Caller{UserID: "m1", Role: domain.RoleManager}
	own, others := domain.Attachment{UploaderID: "r1"}, domain.Attachment{UploaderID: "r2"}
	for _, c := range []struct {
		name string
		err  *domain.Error
		want domain.Code
	}{
		{"RepOwn", domain.CheckUpload(rep, own), ""},
		{"RepOthersIsUnknown", domain.CheckUpload(rep, others), domain.CodeNotFound},
		{"ManagerForbidden", domain.CheckUpload(mgr, own), domain.CodeForbidden},
		{"OwnUpload", domain.CheckUploadOwner(rep, "r1", true), ""},
		{"OthersUploadIsUnknown", domain.CheckUploadOwner(rep, "r2", true), domain.CodeNotFound},
		{"UnknownUpload", domain.CheckUploadOwner(rep, "", false), domain.CodeNotFound},
		{"ManagerUploadForbidden", domain.CheckUploadOwner(mgr, "m1", true), domain.CodeForbidden},
	} {
		var got domain.Code
		if c.err != nil {
			got = c.err.Code
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if a, b := domain.CheckUpload(rep, others), domain.UploadTargetNotFound(); a.Message != b.Message {
		t.Errorf("another's attachment %q, an unknown one %q", a.Message, b.Message)
	}
}
