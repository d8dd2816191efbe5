package domain_test

import (
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

var visitStatuses = []string{domain.VisitPlanned, domain.VisitCancelled, domain.VisitCheckedIn, domain.VisitCompleted}

var orderStatuses = []string{
	domain.OrderDraft, domain.OrderSubmitted, domain.OrderConfirmed, domain.OrderShipped,
	domain.OrderDelivered, domain.OrderCancelled, domain.OrderRejected,
}

func TestVisitReachable(t *testing.T) {
	reachable := map[[2]string]bool{
		{"planned", "planned"}: true, {"planned", "checked_in"}: true, {"planned", "completed"}: true, {"planned", "cancelled"}: true,
		{"checked_in", "checked_in"}: true, {"checked_in", "completed"}: true,
		{"completed", "completed"}: true,
		{"cancelled", "cancelled"}: true,
	}
	for _, from := range visitStatuses {
		for _, to := range visitStatuses {
			want := reachable[[2]string{from, to}]
			if got := domain.VisitReachable(from, to); got != want {
				t.Errorf("VisitReachable(%s, %s) = %v, want %v", from, to, got, want)
			}
			err := domain.CheckVisitTransition(from, to)
			if want != (err == nil) || (err != nil && err.Code != domain.CodeIllegalTransition) {
				t.Errorf("CheckVisitTransition(%s, %s) = %v", from, to, err)
			}
		}
	}
	for _, bad := range [][2]string{{"done", "done"}, {"planned", "done"}, {"", "planned"}} {
		if domain.VisitReachable(bad[0], bad[1]) {
			t.Errorf("VisitReachable(%q, %q) = true for an unknown status", bad[0], bad[1])
		}
	}
	if err := domain.CheckVisitTransition("completed", "planned"); err.Message != "visit cannot go from completed to planned" {
		t.Errorf("message = %q", err.Message)
	}
}

func TestCheckOrderTransition(t *testing.T) {
	// The arrows of docs/protocol.md §4.4, and whether a rep may follow each.
	edges := map[[2]string]bool{
		{"draft", "submitted"}: true, {"draft", "cancelled"}: true, {"submitted", "cancelled"}: true,
		{"submitted", "confirmed"}: false, {"submitted", "rejected"}: false,
		{"confirmed", "shipped"}: false, {"shipped", "delivered"}: false,
	}
	roles := []domain.Role{domain.RoleRep, domain.RoleCoordinator, domain.RoleManager, domain.RoleOps, domain.RoleDirector}
	for _, role := range roles {
		for _, from := range orderStatuses {
			for _, to := range orderStatuses {
				repMay, legal := edges[[2]string{from, to}]
				var want domain.Code
				switch {
				case from == to:
				case !legal:
					want = domain.CodeIllegalTransition
				case role == domain.RoleDirector, role == domain.RoleManager, role == domain.RoleOps, role == domain.RoleRep && !repMay:
					want = domain.CodeForbidden
				}
				err := domain.CheckOrderTransition(role, from, to)
				if (err == nil) != (want == "") || (err != nil && err.Code != want) {
					t.Errorf("CheckOrderTransition(%s, %s, %s) = %v, want %q", role, from, to, err, want)
				}
			}
		}
	}
}

func TestOrderStatusPredicates(t *testing.T) {
	for _, s := range orderStatuses {
		if got, want := domain.OrderEditable(s), s == domain.OrderDraft; got != want {
			t.Errorf("OrderEditable(%s) = %v", s, got)
		}
		past := s != domain.OrderDraft && s != domain.OrderSubmitted
		if got := domain.OrderPastSubmitted(s); got != past {
			t.Errorf("OrderPastSubmitted(%s) = %v, want %v", s, got, past)
		}
	}
}

func TestVisitRank(t *testing.T) {
	for i, s := range visitStatuses {
		if got := domain.VisitRank(s); got != i {
			t.Errorf("VisitRank(%s) = %d, want %d", s, got, i)
		}
	}
	if got := domain.VisitRank("bogus"); got >= 0 {
		t.Errorf("VisitRank(bogus) = %d, want below every status", got)
	}
}
