package backoffice

import (
	"context"
	"slices"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Targets sets and reads sales targets (docs/api.md "Targets").
type Targets struct {
	db *store.DB
}

// NewTargets returns the targets service.
func NewTargets(db *store.DB) *Targets { return &Targets{db: db} }

// TargetInput is the body of PUT /v1/targets: the subject (territory_id or
// rep_id), the period and the figures. revenue_cents is required; a visits or
// new_accounts left out or null means no target for that figure.
type TargetInput struct {
	ID           *string `json:"id"`
	TerritoryID  *string `json:"territory_id"`
	RepID        *string `json:"rep_id"`
	Period       string  `json:"period"`
	RevenueCents *int64  `json:"revenue_cents"`
	Visits       *int64  `json:"visits"`
	NewAccounts  *int64  `json:"new_accounts"`
}

// Set creates or changes the target of the input's subject and period and
// reports whether it was created. The caller's right (domain.ActSetTarget) is
// asked here too, so no path sets a target without it.
func (s *Targets) Set(ctx context.Context, actor domain.Caller, in TargetInput) (domain.Target, bool, error) {
	if err := domain.Authorize(actor.Role, domain.ActSetTarget); err != nil {
		return domain.Target{}, false, err
	}
	var f fields
	t := domain.Target{ID: f.newID(in.ID), TerritoryID: in.TerritoryID, RepID: in.RepID, Visits: in.Visits,
		NewAccounts: in.NewAccounts}
	if in.TerritoryID != nil {
		f.refID("territory_id", *in.TerritoryID)
	}
	if in.RepID != nil {
		f.refID("rep_id", *in.RepID)
	}
	if p, err := domain.ParsePeriod(in.Period); err != nil {
		f.add("period", err.Error())
	} else {
		t.Period, t.PeriodStart, t.PeriodEnd = p.Name, p.Start.Format(dateLayout), p.End.Format(dateLayout)
	}
	if in.RevenueCents == nil {
		f.add("revenue_cents", "is required")
	} else {
		t.RevenueCents = *in.RevenueCents
	}
	if err := f.validate(domain.ValidateTarget(t)); err != nil {
		return domain.Target{}, false, err
	}
	return s.db.SetTarget(ctx, actor.UserID, t)
}

const dateLayout = "2006-01-02"

// TargetQuery filters a target list.
type TargetQuery struct {
	Period, TerritoryID, RepID string
	Cursor                     string
	Limit                      int
}

// TargetPage is one page of targets.
type TargetPage struct {
	Items      []domain.Target `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

// scopeOf returns the territories whose targets the reader sees: a manager's
// subtree, or nil (everything) for the organisation-wide roles.
func (s *Targets) scopeOf(ctx context.Context, reader domain.Caller) ([]string, error) {
	if err := domain.Authorize(reader.Role, domain.ActReadTargets); err != nil {
		return nil, err
	}
	if reader.Role != domain.RoleManager {
		return nil, nil
	}
	return s.db.UserSubtree(ctx, reader.UserID)
}

// List returns the targets the reader sees, by id: a manager those of the
// territories of their subtree and of the reps assigned to one of them.
func (s *Targets) List(ctx context.Context, reader domain.Caller, q TargetQuery) (TargetPage, error) {
	var f fields
	if q.Period != "" {
		if _, err := domain.ParsePeriod(q.Period); err != nil {
			f.add("period", err.Error())
		}
	}
	if q.TerritoryID != "" {
		f.refID("territory_id", q.TerritoryID)
	}
	if q.RepID != "" {
		f.refID("rep_id", q.RepID)
	}
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		f.add("cursor", "is not a cursor of this list")
	}
	if len(f.errs) > 0 {
		return TargetPage{}, &domain.Error{Code: domain.CodeBadRequest, Message: "invalid parameter", Fields: f.errs}
	}
	scope, err := s.scopeOf(ctx, reader)
	if err != nil {
		return TargetPage{}, err
	}
	if q.TerritoryID != "" {
		// Unknown and out of scope answer alike, as the reports do.
		in := scope == nil || slices.Contains(scope, q.TerritoryID)
		if in {
			if in, err = s.db.TerritoryExists(ctx, q.TerritoryID); err != nil {
				return TargetPage{}, err
			}
		}
		if !in {
			return TargetPage{}, domain.Errorf(domain.CodeNotFound, "territory not found")
		}
	}
	limit := clampLimit(q.Limit)
	items, err := s.db.ListTargets(ctx, store.TargetFilter{Territories: scope, Period: q.Period,
		TerritoryID: q.TerritoryID, RepID: q.RepID, After: after, Limit: limit + 1})
	if err != nil {
		return TargetPage{}, err
	}
	page := TargetPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		next := encodeCursor(items[limit-1].ID)
		page.NextCursor = &next
	}
	return page, nil
}

// History returns the changes of a target the reader sees, oldest first; a
// target outside the reader's scope is not found, like an unknown one.
func (s *Targets) History(ctx context.Context, reader domain.Caller, id string) ([]domain.TargetChange, error) {
	if err := checkPathID("target", id); err != nil {
		return nil, err
	}
	scope, err := s.scopeOf(ctx, reader)
	if err != nil {
		return nil, err
	}
	return s.db.TargetHistory(ctx, scope, id)
}
