package device

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// PlanVisit plans a visit to an account for the signed-in rep.
func (c *Client) PlanVisit(ctx context.Context, accountID string, plannedAt time.Time) (domain.Visit, error) {
	return create(ctx, c, domain.TableVisits, func(tx *gorm.DB) (map[string]any, error) {
		if err := exists(tx, domain.TableAccounts, "account_id", accountID); err != nil {
			return nil, err
		}
		return map[string]any{"account_id": accountID, "planned_at": wireTime(plannedAt), "status": domain.VisitPlanned}, nil
	}, domain.ValidateVisit)
}

// CheckIn records arrival at a planned visit, with the position it was made at.
func (c *Client) CheckIn(ctx context.Context, visitID string, at time.Time, lat, lng float64) (domain.Visit, error) {
	return c.moveVisit(ctx, visitID, domain.VisitCheckedIn, map[string]any{
		"checked_in_at": wireTime(at), "check_in_lat": lat, "check_in_lng": lng,
	})
}

// Outcome codes of a completed visit. The server stores any short code (at
// most 64 characters, docs/protocol.md §7) and gives none a meaning, so an app
// may add its own; these are the conventional ones, used by the demo and
// generated organisations (fixtures).
const (
	OutcomeOrderTaken    = "order_taken"   // an order was taken during the visit
	OutcomeFollowUp      = "follow_up"     // interest; the rep comes back or calls
	OutcomeNoDecision    = "no_decision"   // met the buyer, nothing decided
	OutcomeNotAvailable  = "not_available" // nobody to meet (closed, buyer away)
	OutcomeMerchandising = "merchandising" // shelf and display work, no sale expected
	OutcomeComplaint     = "complaint"     // the customer raised a complaint
)

// CheckOut completes a checked-in visit with its outcome code (one of the
// Outcome constants, or an app's own code of at most 64 characters; "" for
// none) and report (free text, at most 10,000 characters; "" for none).
func (c *Client) CheckOut(ctx context.Context, visitID string, at time.Time, outcome, report string) (domain.Visit, error) {
	return c.moveVisit(ctx, visitID, domain.VisitCompleted, map[string]any{
		"checked_out_at": wireTime(at), "outcome": nullable(outcome), "report": nullable(report),
	})
}

// CancelVisit cancels a planned visit.
func (c *Client) CancelVisit(ctx context.Context, visitID string) (domain.Visit, error) {
	return c.moveVisit(ctx, visitID, domain.VisitCancelled, map[string]any{})
}

// moveVisit takes one arrow of the visit state machine; staying put is refused
// too (checking in twice is a mistake worth telling the user about).
func (c *Client) moveVisit(ctx context.Context, id, to string, patch map[string]any) (domain.Visit, error) {
	return update(ctx, c, domain.TableVisits, id, func(_ *gorm.DB, cur domain.Visit) (map[string]any, error) {
		if cur.Status == to {
			return nil, domain.Errorf(domain.CodeIllegalTransition, "visit is already %s", to)
		}
		if err := domain.CheckVisitTransition(cur.Status, to); err != nil {
			return nil, err
		}
		patch["status"] = to
		return patch, nil
	}, domain.ValidateVisit)
}

// DeleteVisit deletes a visit that is still only planned (docs/protocol.md §4.3).
func (c *Client) DeleteVisit(ctx context.Context, visitID string) error {
	return remove(ctx, c, domain.TableVisits, visitID, func(cur domain.Visit) error {
		if cur.Status != domain.VisitPlanned {
			return domain.Errorf(domain.CodeIllegalTransition, "only planned visits can be deleted; this one is %s", cur.Status)
		}
		return nil
	})
}
