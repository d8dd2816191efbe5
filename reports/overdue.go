package reports

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Person names a user in a report.
type Person struct {
	ID   string `json:"rep_id"`
	Name string `json:"name"`
}

// OverdueAccount is one row of the overdue report.
type OverdueAccount struct {
	AccountID     string     `json:"account_id"`
	Name          string     `json:"name"`
	TerritoryID   string     `json:"territory_id"`
	TerritoryName string     `json:"territory_name"`
	Class         string     `json:"class"`
	CadenceDays   int        `json:"cadence_days"`
	LastVisitAt   *time.Time `json:"last_visit_at"`
	LastVisitDate *Date      `json:"last_visit_date"`
	DaysSince     *int       `json:"days_since_visit"` // to − last visit date; null when never visited
	DaysOverdue   *int       `json:"days_overdue"`     // days since − cadence; null when never visited
	Lat           *float64   `json:"lat"`
	Lng           *float64   `json:"lng"`
	OwnerID       *string    `json:"owner_id"`
	Reps          []Person   `json:"reps"` // the owner for a key account, else the territory's reps
}

// OverduePage is one page of the overdue report.
type OverduePage struct {
	From       Date             `json:"from"`
	To         Date             `json:"to"`
	Items      []OverdueAccount `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

// overdueCursor is the sort key of the last item delivered: never visited
// first (by id), then most days overdue, earliest last visit, id.
type overdueCursor struct {
	Never bool      `json:"n"`
	Days  int       `json:"d,omitempty"`
	Last  time.Time `json:"t,omitempty"`
	ID    string    `json:"i"`
}

func (c overdueCursor) encode() string {
	b, _ := json.Marshal(c) // plain struct
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeOverdueCursor(s string) (*overdueCursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c overdueCursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == "" {
		return nil, badParam("cursor", "not a cursor of this report")
	}
	return &c, nil
}

// Overdue lists the overdue active accounts of the caller's scope as of p.To,
// most overdue first. Limit is the page size.
func (s *Service) Overdue(ctx context.Context, c domain.Caller, p Params, cursor string, limit int) (OverduePage, error) {
	out := OverduePage{From: Date(p.From), To: Date(p.To), Items: []OverdueAccount{}}
	cur, err := decodeOverdueCursor(cursor)
	if err != nil {
		return out, err
	}
	err = s.db.ReadTx(ctx, func(tx *store.Tx) error {
		sc, err := s.resolveScope(tx, c, kindOverdue, p.TerritoryID)
		if err != nil || sc.empty() {
			return err
		}
		var rows []OverdueAccount
		for _, class := range []string{domain.ClassA, domain.ClassB, domain.ClassC} {
			got, err := s.overdueOfClass(tx, sc, p.To, class, cur, limit+1)
			if err != nil {
				return err
			}
			rows = append(rows, got...)
		}
		sortOverdue(rows)
		if len(rows) > limit {
			rows = rows[:limit]
			next := cursorOf(rows[limit-1]).encode()
			out.NextCursor = &next
		}
		if err := s.attachReps(tx, rows); err != nil {
			return err
		}
		for i := range rows {
			rows[i].TerritoryName = sc.name(rows[i].TerritoryID)
		}
		out.Items = rows
		return nil
	})
	return out, err
}

func cursorOf(a OverdueAccount) overdueCursor {
	if a.LastVisitAt == nil {
		return overdueCursor{Never: true, ID: a.AccountID}
	}
	return overdueCursor{Days: *a.DaysOverdue, Last: *a.LastVisitAt, ID: a.AccountID}
}

// before is the report's order.
func before(a, b OverdueAccount) bool {
	an, bn := a.LastVisitAt == nil, b.LastVisitAt == nil
	switch {
	case an != bn:
		return an
	case an:
		return a.AccountID < b.AccountID
	case *a.DaysOverdue != *b.DaysOverdue:
		return *a.DaysOverdue > *b.DaysOverdue
	case !a.LastVisitAt.Equal(*b.LastVisitAt):
		return a.LastVisitAt.Before(*b.LastVisitAt)
	}
	return a.AccountID < b.AccountID
}

func sortOverdue(rows []OverdueAccount) {
	sort.Slice(rows, func(i, j int) bool { return before(rows[i], rows[j]) })
}
