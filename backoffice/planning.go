package backoffice

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Planning is how managers plan visits for their reps (docs/protocol.md §6). A planned
// visit is an ordinary visit row: it reaches the rep's devices by pull.
type Planning struct {
	db *store.DB
}

func NewPlanning(db *store.DB) *Planning { return &Planning{db: db} }

// PlanInput is the body of POST /v1/visits; id is optional.
type PlanInput struct {
	ID        *string    `json:"id"`
	AccountID string     `json:"account_id"`
	RepID     string     `json:"rep_id"`
	PlannedAt *time.Time `json:"planned_at"`
}

// Plan creates a planned visit. The account must be in the manager's
// territories (else not found); the rep must be a rep working in them and able
// to see the account, or the visit would never reach anyone's device.
func (p *Planning) Plan(ctx context.Context, c domain.Caller, in PlanInput) (domain.Visit, error) {
	if err := domain.Authorize(c.Role, domain.ActPlanVisit); err != nil {
		return domain.Visit{}, err
	}
	var f fields
	v := domain.Visit{ID: f.newID(in.ID), AccountID: in.AccountID, RepID: in.RepID, Status: domain.VisitPlanned}
	if in.PlannedAt == nil {
		f.add("planned_at", "is required")
	} else {
		v.PlannedAt = in.PlannedAt.UTC()
	}
	if in.AccountID == "" {
		f.add("account_id", "is required")
	}
	if in.RepID == "" {
		f.add("rep_id", "is required")
	} else {
		f.refID("rep_id", in.RepID)
	}
	if err := f.err(); err != nil {
		return domain.Visit{}, err
	}
	var out domain.Visit
	err := p.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := reachOf(tx, c)
		if err != nil {
			return err
		}
		acc, err := accountInReach(tx, r, in.AccountID)
		if err != nil {
			return err
		}
		if err := checkPlannedRep(tx, r, in.RepID, acc); err != nil {
			return err
		}
		w := domain.RowWrite{Table: domain.TableVisits, Kind: domain.WriteCreate, Owner: v.RepID, Status: v.Status,
			Changed: []string{"account_id", "rep_id", "planned_at"}}
		if err := domain.CheckWrite(c, w); err != nil {
			return err
		}
		if err := f.validate(domain.ValidateVisit(v)); err != nil {
			return err
		}
		out, err = store.CreateVisit(tx, acc, v)
		return conflictOn(err, "visit %s already exists", v.ID)
	})
	return out, err
}

// checkPlannedRep: the rep exists, is a rep, works in one of the manager's
// territories and sees the account (domain.CheckPlannedRep).
func checkPlannedRep(tx *store.Tx, r domain.Visibility, repID string, acc domain.Account) error {
	u, err := store.GetUser(tx, repID, false)
	if err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
		return err
	}
	rep := domain.PlannedRep{Found: err == nil, User: u.User, InPlannerScope: err == nil && r.SeesAny(u.TerritoryIDs)}
	if err := domain.CheckPlannedRep(rep, acc); err != nil {
		return err
	}
	return nil
}
