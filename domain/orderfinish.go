package domain

import "time"

// OrderFacts is what finishing an order needs from storage: the catalogue
// entries of its lines' products (for an order whose lines may still change)
// and what is known of the visit it names.
type OrderFacts struct {
	Products map[string]Product
	Visit    OrderVisit
}

// OrderVisit is what is known of the visit an order names.
type OrderVisit struct {
	Found     bool   // the visit exists
	AccountID string // its account, when found
	Deleted   bool   // it existed and was deleted
}

// FinishOrder prices, numbers and validates o, an order about to be written
// from status from, for every writer (push, the order desk, conflict
// resolution). Draft lines are priced from the catalogue on every write so the
// rep sees real totals offline after the next sync; submitting freezes prices,
// takes the next organisation-wide number (next) and stamps the time; the
// total is always the server's. next is called only for a submission that
// passed every check before it, so a refused submission takes no number.
func FinishOrder(o *Order, from string, f OrderFacts, now time.Time, next func() (string, error)) error {
	if o.VisitID != nil {
		if err := checkOrderVisit(o, f.Visit); err != nil {
			return err
		}
	}
	if OrderEditable(from) && len(o.Lines) > 0 {
		lines, err := PriceLines(o.Lines, f.Products)
		if err != nil {
			return err
		}
		if err := CheckCurrency(*o, f.Products); err != nil {
			return err
		}
		o.Lines = lines
	}
	if from == OrderDraft && o.Status == OrderSubmitted {
		if len(o.Lines) == 0 {
			return Invalid(FieldError{Field: "lines", Message: "an order needs at least one line to be submitted"})
		}
		n, err := next()
		if err != nil {
			return err
		}
		o.Number, o.SubmittedAt = &n, &now
	}
	o.TotalCents = OrderTotal(o.Lines)
	if err := ValidateOrder(*o); err != nil {
		return err
	}
	return nil
}

// checkOrderVisit: an order's visit is a visit of its account. A link to a
// visit that was deleted is cleared instead of refused: a device may have
// linked the order offline before it heard of the delete, and refusing would
// lose the order, or leave an order unlinked by an older server stuck forever.
func checkOrderVisit(o *Order, v OrderVisit) *Error {
	if !v.Found && v.Deleted {
		o.VisitID = nil
		return nil
	}
	if !v.Found || v.AccountID != o.AccountID {
		return Invalid(FieldError{Field: "visit_id", Message: "must be a visit of the same account"})
	}
	return nil
}
