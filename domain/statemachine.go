package domain

// visitNext is the visit state machine (docs/protocol.md §4.4) as arrows.
var visitNext = map[string][]string{
	VisitPlanned:   {VisitCheckedIn, VisitCancelled},
	VisitCheckedIn: {VisitCompleted},
}

// VisitReachable reports whether a visit may go from one known status to another
// by following zero or more arrows: one push may carry a visit from planned to
// completed when the row it ends with is valid.
func VisitReachable(from, to string) bool {
	if VisitRank(from) < 0 || VisitRank(to) < 0 {
		return false
	}
	if from == to {
		return true
	}
	for _, next := range visitNext[from] {
		if VisitReachable(next, to) {
			return true
		}
	}
	return false
}

// CheckVisitTransition refuses a status change that goes against the arrows.
func CheckVisitTransition(from, to string) *Error {
	if VisitReachable(from, to) {
		return nil
	}
	return Errorf(CodeIllegalTransition, "visit cannot go from %s to %s", from, to)
}

// VisitRank orders visit statuses for the merge policy: the further state wins,
// and a visit that happened beats a cancellation. Unknown statuses rank -1.
func VisitRank(status string) int {
	switch status {
	case VisitPlanned:
		return 0
	case VisitCancelled:
		return 1
	case VisitCheckedIn:
		return 2
	case VisitCompleted:
		return 3
	}
	return -1
}

type orderEdge struct{ from, to string }

// orderEdges maps each legal order transition to whether a rep may make it; a
// coordinator (the order desk) may make them all, and no other role any
// (docs/protocol.md §2: order status transitions are the coordinator's).
var orderEdges = map[orderEdge]bool{
	{OrderDraft, OrderSubmitted}:     true,
	{OrderDraft, OrderCancelled}:     true,
	{OrderSubmitted, OrderCancelled}: true,
	{OrderSubmitted, OrderConfirmed}: false,
	{OrderSubmitted, OrderRejected}:  false,
	{OrderConfirmed, OrderShipped}:   false,
	{OrderShipped, OrderDelivered}:   false,
}

// CheckOrderTransition decides whether role may move an order from one status
// to another. Orders move one arrow at a time: each step is a business event
// (submission, confirmation, shipping) that someone answers for. Staying in the
// same status is not a transition.
func CheckOrderTransition(role Role, from, to string) *Error {
	if from == to {
		return nil
	}
	repMay, legal := orderEdges[orderEdge{from, to}]
	if !legal {
		return Errorf(CodeIllegalTransition, "order cannot go from %s to %s", from, to)
	}
	switch role {
	case RoleCoordinator:
		return nil
	case RoleRep:
		if repMay {
			return nil
		}
	}
	return Errorf(CodeForbidden, "a %s may not move an order from %s to %s", role, from, to)
}

// OrderEditable reports whether a rep may still change an order's lines and
// note: only while it is a draft, before the order desk has seen it.
func OrderEditable(status string) bool {
	return status == OrderDraft
}

// OrderPastSubmitted reports whether the order desk has acted on the order (or
// it was cancelled): from then on a device's offline edit cannot be merged.
func OrderPastSubmitted(status string) bool {
	switch status {
	case OrderConfirmed, OrderShipped, OrderDelivered, OrderRejected, OrderCancelled:
		return true
	}
	return false
}
