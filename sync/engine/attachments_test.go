package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

const sha1k = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func attachRow(parentTable, parentID, kind string) map[string]any {
	return map[string]any{"parent_table": parentTable, "parent_id": parentID, "kind": kind,
		"content_type": "image/jpeg", "size": 1024, "sha256": sha1k, "captured_at": "2026-11-23T09:10:00Z",
		"captured_lat": 52.5, "captured_lng": 13.4, "caption": "shelf before"}
}

func TestAttachments_PushPullScopeDelete(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		visit, photo := uuid.NewString(), uuid.NewString()
		res := o.push(t, o.rep1, planVisit(o, visit), mut("attachments", "upsert", photo, 0, attachRow("visits", visit, "photo")))
		if res[1].Status != wire.StatusApplied || res[1].Version != 1 {
			t.Fatalf("create attachment: %+v", res[1])
		}
		if !strings.Contains(string(res[1].Row), `"status":"pending"`) || !strings.Contains(string(res[1].Row), `"uploader_id":"`+o.rep1) ||
			!strings.Contains(string(res[1].Row), `"account_id":"`+o.acc1) {
			t.Errorf("row = %s", res[1].Row)
		}
		rep1, rep2, mgr := newMirror(), newMirror(), newMirror()
		o.syncAll(t, rep1, o.rep1)
		o.syncAll(t, rep2, o.rep2)
		o.syncAll(t, mgr, o.mgr)
		if !rep1.has("attachments", photo) || !mgr.has("attachments", photo) || rep2.has("attachments", photo) {
			t.Fatalf("attachment visible to rep1 %v, manager %v, rep2 %v", rep1.has("attachments", photo), mgr.has("attachments", photo), rep2.has("attachments", photo))
		}

		// The account moves to T2: rep1 gets a delete (out_of_scope), rep2 the row.
		o.write(t, func(tx *store.Tx, now time.Time) error {
			old, fv, err := store.GetAccount(tx, o.acc1, true)
			if err != nil {
				return err
			}
			moved := old
			moved.TerritoryID = o.t2
			_, err = store.UpdateAccount(tx.At(now), old, fv, moved)
			return err
		})
		o.syncAll(t, rep1, o.rep1)
		o.syncAll(t, rep2, o.rep2)
		if rep1.has("attachments", photo) || !rep2.has("attachments", photo) {
			t.Fatalf("after the move: rep1 has %v, rep2 has %v", rep1.has("attachments", photo), rep2.has("attachments", photo))
		}
		if !hasDelete(rep1, photo, store.ReasonOutOfScope) {
			t.Errorf("rep1 got no out_of_scope delete for the attachment: %+v", rep1.deletes)
		}
		assertConverged(t, o, rep1, o.rep1)
		assertConverged(t, o, rep2, o.rep2)

		// Deleting the parent deletes the attachment, with reason deleted.
		o.write(t, func(tx *store.Tx, now time.Time) error {
			v, _, err := store.GetVisit(tx, visit, true)
			if err != nil {
				return err
			}
			acc, _, err := store.GetAccount(tx, o.acc1, false)
			if err != nil {
				return err
			}
			return store.DeleteVisit(tx.At(now), acc, v)
		})
		o.syncAll(t, rep2, o.rep2)
		o.syncAll(t, mgr, o.mgr)
		if rep2.has("attachments", photo) || !hasDelete(rep2, photo, store.ReasonDeleted) || !hasDelete(mgr, photo, store.ReasonDeleted) {
			t.Errorf("parent deleted: rep2 has %v, deletes rep2 %+v mgr %+v", rep2.has("attachments", photo), rep2.deletes, mgr.deletes)
		}
		assertConverged(t, o, mgr, o.mgr)
	})
}

func hasDelete(m *mirror, id, reason string) bool {
	for _, d := range m.deletes {
		if d.ID == id && d.Reason == reason {
			return true
		}
	}
	return false
}

func TestAttachments_PushRules(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		visit, otherVisit, photo := uuid.NewString(), uuid.NewString(), uuid.NewString()
		o.push(t, o.rep1, planVisit(o, visit))
		o.push(t, o.rep2, mut("visits", "upsert", otherVisit, 0, map[string]any{"account_id": o.acc2, "planned_at": "2026-11-23T09:00:00Z"}))
		big := attachRow("visits", visit, "signature")
		big["size"] = 3 << 20
		big["content_type"] = "application/pdf"
		badSHA := attachRow("visits", visit, "photo")
		badSHA["sha256"] = "XYZ"
		cases := []struct {
			name  string
			m     wire.Mutation
			code  domain.Code
			field string
		}{
			{"out-of-scope parent answers as unknown", mut("attachments", "upsert", uuid.NewString(), 0, attachRow("visits", otherVisit, "photo")), domain.CodeNotFound, "parent_id"},
			{"unknown parent", mut("attachments", "upsert", uuid.NewString(), 0, attachRow("visits", uuid.NewString(), "photo")), domain.CodeNotFound, "parent_id"},
			{"size and type per kind", mut("attachments", "upsert", uuid.NewString(), 0, big), domain.CodeValidation, "size"},
			{"sha256 is lowercase hex", mut("attachments", "upsert", uuid.NewString(), 0, badSHA), domain.CodeValidation, "sha256"},
			{"parent table", mut("attachments", "upsert", uuid.NewString(), 0, attachRow("accounts", o.acc1, "photo")), domain.CodeValidation, "parent_table"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := o.push(t, o.rep1, c.m)[0]
				if r.Status != wire.StatusRejected || r.Error.Code != string(c.code) || !hasField(r.Error.Fields, c.field) {
					t.Fatalf("got %+v (%+v)", r, r.Error)
				}
			})
		}
		if r := o.push(t, o.rep1, mut("attachments", "upsert", photo, 0, attachRow("visits", visit, "photo")))[0]; r.Status != wire.StatusApplied {
			t.Fatalf("create: %+v", r.Error)
		}
		// Only the caption may change, and only the uploader changes it.
		if r := o.push(t, o.rep1, mut("attachments", "upsert", photo, 1, map[string]any{"sha256": strings.Repeat("a", 64)}))[0]; r.Status != wire.StatusRejected || !hasField(r.Error.Fields, "sha256") {
			t.Errorf("sha256 edit: %+v", r)
		}
		if r := o.push(t, o.rep1, mut("attachments", "upsert", photo, 1, map[string]any{"caption": "after", "status": "stored"}))[0]; r.Status != wire.StatusApplied || r.Version != 2 || !strings.Contains(string(r.Row), `"status":"pending"`) {
			t.Errorf("caption edit: %+v %s", r, r.Row)
		}
		// The count limit per parent and kind.
		for i := range domain.AttachmentLimits[domain.KindSignature].MaxPerParent {
			if r := o.push(t, o.rep1, mut("attachments", "upsert", uuid.NewString(), 0, sigRow(visit)))[0]; r.Status != wire.StatusApplied {
				t.Fatalf("signature %d: %+v", i, r.Error)
			}
		}
		if r := o.push(t, o.rep1, mut("attachments", "upsert", uuid.NewString(), 0, sigRow(visit)))[0]; r.Status != wire.StatusRejected || !hasField(r.Error.Fields, "parent_id") {
			t.Errorf("signature over the limit: %+v", r)
		}
		if r := o.push(t, o.mgr, mut("attachments", "delete", photo, 2, nil))[0]; r.Status != wire.StatusRejected || r.Error.Code != string(domain.CodeForbidden) {
			t.Errorf("manager delete: %+v", r)
		}
		if r := o.push(t, o.rep1, mut("attachments", "delete", photo, 2, nil))[0]; r.Status != wire.StatusApplied {
			t.Errorf("delete: %+v", r.Error)
		}
		if n := countRows(t, db, "attachments"); n != 4 {
			t.Errorf("%d attachments left, want the 4 signatures", n)
		}
	})
}

func sigRow(visit string) map[string]any {
	r := attachRow("visits", visit, "signature")
	r["content_type"] = "image/png"
	return r
}

func hasField(fs []domain.FieldError, name string) bool {
	for _, f := range fs {
		if f.Field == name {
			return true
		}
	}
	return false
}
