package server_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

func planBody(fields map[string]any) string {
	b, _ := json.Marshal(fields)
	return string(b)
}

func TestPlanning_Plan(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		at := "2026-11-24T08:30:00+01:00"

		t.Run("Created", func(t *testing.T) {
			o := o.in(t)
			id := uuid.NewString()
			var v domain.Visit
			o.as("mgr", "POST", "/v1/visits", planBody(map[string]any{"id": id, "account_id": o.acc2, "rep_id": o.rep2, "planned_at": at}), 201, &v)
			want := time.Date(2026, 11, 24, 7, 30, 0, 0, time.UTC)
			if v.ID != id || v.Status != domain.VisitPlanned || v.RepID != o.rep2 || v.AccountID != o.acc2 ||
				!v.PlannedAt.Equal(want) || v.PlannedAt.Location() != time.UTC || v.Version != 1 {
				t.Errorf("planned %+v", v)
			}
			o.mirror("rep2").hasVersion("visits", id, 1) // the rep's devices get the plan
			o.failsAs("mgr", "POST", "/v1/visits", planBody(map[string]any{"id": id, "account_id": o.acc2, "rep_id": o.rep2, "planned_at": at}), 409, domain.CodeConflict)
		})
		t.Run("CreatedWithServerID", func(t *testing.T) {
			o := o.in(t)
			var v domain.Visit
			o.as("mgr2", "POST", "/v1/visits", planBody(map[string]any{"account_id": o.acc3, "rep_id": o.rep3, "planned_at": at}), 201, &v)
			if !domain.IsUUID(v.ID) || v.RepID != o.rep3 {
				t.Errorf("planned %+v", v)
			}
		})
		t.Run("ErrAccountOutOfScope", func(t *testing.T) {
			o := o.in(t)
			o.failsAs("mgr", "POST", "/v1/visits", planBody(map[string]any{"account_id": o.acc3, "rep_id": o.rep1, "planned_at": at}), 404, domain.CodeNotFound)
			o.failsAs("mgr", "POST", "/v1/visits", planBody(map[string]any{"account_id": uuid.NewString(), "rep_id": o.rep1, "planned_at": at}), 404, domain.CodeNotFound)
		})
		cases := []struct {
			name   string
			body   map[string]any
			fields []string
		}{
			{"ErrRepOfAnotherRegion", map[string]any{"account_id": o.acc1, "rep_id": o.rep3, "planned_at": at}, []string{"rep_id"}},
			{"ErrNotARep", map[string]any{"account_id": o.acc1, "rep_id": o.mgr, "planned_at": at}, []string{"rep_id"}},
			{"ErrUnknownRep", map[string]any{"account_id": o.acc1, "rep_id": uuid.NewString(), "planned_at": at}, []string{"rep_id"}},
			{"ErrRepDoesNotCoverAccount", map[string]any{"account_id": o.acc1, "rep_id": o.rep2, "planned_at": at}, []string{"rep_id"}},
			{"ErrMissingFields", map[string]any{}, []string{"account_id", "planned_at", "rep_id"}},
			{"ErrBadIDs", map[string]any{"id": "x", "account_id": o.acc1, "rep_id": "y", "planned_at": at}, []string{"id", "rep_id"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				o := o.in(t)
				d := o.failsAs("mgr", "POST", "/v1/visits", planBody(tc.body), 422, domain.CodeValidation)
				if got := fieldNames(d); !slices.Equal(got, tc.fields) {
					t.Errorf("fields = %v, want %v", got, tc.fields)
				}
			})
		}
		t.Run("ErrMalformed", func(t *testing.T) {
			o := o.in(t)
			o.failsAs("mgr", "POST", "/v1/visits", `{"account_id":"`+o.acc1+`","rep_id":"`+o.rep1+`","planned_at":"tomorrow"}`, 400, domain.CodeBadRequest)
			o.failsAs("mgr", "POST", "/v1/visits", `{"colour":"red"}`, 400, domain.CodeBadRequest)
		})
		t.Run("ErrForbidden", func(t *testing.T) {
			o := o.in(t)
			body := planBody(map[string]any{"account_id": o.acc1, "rep_id": o.rep1, "planned_at": at})
			for _, who := range []string{"rep1", "coord1", "director", "ops"} {
				o.failsAs(who, "POST", "/v1/visits", body, 403, domain.CodeForbidden)
			}
			if d := o.fails("POST", "/v1/visits", "", body, 401); d.Code != string(domain.CodeUnauthorized) {
				t.Errorf("code = %s", d.Code)
			}
		})
	})
}
