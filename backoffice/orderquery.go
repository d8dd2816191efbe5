package backoffice

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// orderSorts are the sort orders of the queue; the first is the default
// (oldest submission first: the desk works the queue in arrival order).
var orderSorts = []string{store.OrderSortSubmitted, store.OrderSortSubmittedDesc, store.OrderSortTotal, store.OrderSortTotalDesc}

// orderCursor is the position after the last item of a page: its sort key and
// id, as base64url JSON. A cursor of the default order is {"t","id"}, as the
// queue issued before it could be sorted, so those cursors stay valid.
type orderCursor struct {
	T    *time.Time `json:"t,omitempty"`
	N    *int64     `json:"n,omitempty"`
	ID   string     `json:"id"`
	Sort string     `json:"s,omitempty"`
}

func encodeOrderCursor(sort string, o domain.Order) *string {
	c := orderCursor{ID: o.ID}
	switch sort {
	case store.OrderSortTotal, store.OrderSortTotalDesc:
		c.N = &o.TotalCents
	default:
		t := o.SubmittedAt.UTC()
		c.T = &t
	}
	if sort != store.OrderSortSubmitted {
		c.Sort = sort
	}
	b, _ := json.Marshal(c) // plain values always marshal
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// applyCursor positions sel after the cursor, which must have been issued for
// the same sort order.
func applyCursor(sel *store.OrderQueue, sort, raw string) error {
	if raw == "" {
		return nil
	}
	bad := badParam("cursor", "is not a cursor of this list")
	var c orderCursor
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if c.Sort == "" {
		c.Sort = store.OrderSortSubmitted
	}
	if err != nil || !domain.IsUUID(c.ID) || c.Sort != sort {
		return bad
	}
	switch sort {
	case store.OrderSortTotal, store.OrderSortTotalDesc:
		if c.N == nil {
			return bad
		}
		sel.AfterTotal = c.N
	default:
		if c.T == nil || c.T.IsZero() {
			return bad
		}
		sel.AfterSubmitted = c.T
	}
	sel.AfterID = c.ID
	return nil
}

// parseOrderFilters checks the search filters of q into sel.
func parseOrderFilters(q OrderQuery, sel *store.OrderQueue) error {
	var f fields
	if q.Status != "" && !slices.Contains(domain.OrderStatuses(), q.Status) {
		f.add("status", "must be one of "+strings.Join(domain.OrderStatuses(), ", "))
	}
	for _, p := range []struct {
		name, v string
		dst     *string
	}{{"territory_id", q.TerritoryID, nil}, {"account_id", q.AccountID, &sel.AccountID}, {"rep_id", q.RepID, &sel.RepID}} {
		if p.v != "" && !domain.IsUUID(p.v) {
			f.add(p.name, "must be a UUID")
		} else if p.dst != nil {
			*p.dst = p.v
		}
	}
	if len(q.Number) > 64 {
		f.add("number", "must be at most 64 characters")
	}
	sel.Status, sel.Number = q.Status, strings.TrimSpace(q.Number)
	var err error
	zone := q.Zone
	if zone == nil {
		zone = time.UTC
	}
	if sel.SubmittedFrom, err = parseWhen(q.SubmittedFrom, false, zone); err != nil {
		f.add("submitted_from", err.Error())
	}
	if sel.SubmittedTo, err = parseWhen(q.SubmittedTo, true, zone); err != nil {
		f.add("submitted_to", err.Error())
	}
	if sel.MinTotal, err = parseCents(q.MinTotal); err != nil {
		f.add("min_total_cents", err.Error())
	}
	if sel.MaxTotal, err = parseCents(q.MaxTotal); err != nil {
		f.add("max_total_cents", err.Error())
	}
	sel.Sort = q.Sort
	if sel.Sort == "" {
		sel.Sort = store.OrderSortSubmitted
	}
	if !slices.Contains(orderSorts, sel.Sort) {
		f.add("sort", "must be one of "+strings.Join(orderSorts, ", "))
	}
	if err := f.err(); err != nil {
		return asBadRequest(err)
	}
	return nil
}

// asBadRequest turns the field errors of query parameters into the 400 the
// list endpoints answer (a body would be a 422).
func asBadRequest(err error) error {
	if e := domain.AsError(err); e != nil {
		return &domain.Error{Code: domain.CodeBadRequest, Message: "invalid query parameter", Fields: e.Fields}
	}
	return err
}

type paramError string

func (e paramError) Error() string { return string(e) }

// parseWhen reads an RFC 3339 time or a YYYY-MM-DD date, a day of the
// organisation's zone. A date that ends a range (submitted_to) includes its
// whole day (23 or 25 hours long around a daylight-saving change).
func parseWhen(s string, end bool, zone *time.Location) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t = t.UTC()
		return &t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, paramError("must be an RFC 3339 time or a YYYY-MM-DD date")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone).UTC()
	return &t, nil
}

func parseCents(s string) (*int64, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return nil, paramError("must be a whole number of cents, 0 or more")
	}
	return &n, nil
}
