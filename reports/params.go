package reports

import (
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/google/uuid"
)

// DateLayout is the contract's date form.
const DateLayout = "2006-01-02"

// DefaultDays is the length of the period when the caller names no `from`: four
// whole weeks ending on `to`, so every weekday appears equally often.
const DefaultDays = 28

// MaxDays bounds a period, so one request cannot ask for a scan of all history.
const MaxDays = 366

// Params are the common report parameters. From and To are calendar dates,
// both included, held as UTC midnights; the service reads them as days of the
// organisation's time zone (Service.Location).
type Params struct {
	From        time.Time
	To          time.Time
	TerritoryID string
}

// Days is the number of days in the period, both ends included.
func (p Params) Days() int { return int(p.To.Sub(p.From).Hours()/24) + 1 }

// ParseParams reads the query parameters: dates are calendar dates; `to`
// defaults to today and `from` to DefaultDays-1 days before `to`. Today is
// now's date on the clock of its location: the organisation's day when now is
// in the organisation's time zone (Service.Location).
func ParseParams(now time.Time, from, to, territoryID string) (Params, error) {
	var p Params
	var err error
	today := day(now)
	p.To = today
	if to != "" {
		if p.To, err = parseDate("to", to); err != nil {
			return p, err
		}
	}
	p.From = p.To.AddDate(0, 0, -(DefaultDays - 1))
	if from != "" {
		if p.From, err = parseDate("from", from); err != nil {
			return p, err
		}
	}
	if p.From.After(p.To) {
		return p, badParam("from", "must not be after to")
	}
	if p.Days() > MaxDays {
		return p, badParam("from", "the period may span at most 366 days")
	}
	if territoryID != "" {
		if _, err := uuid.Parse(territoryID); err != nil {
			return p, badParam("territory_id", "must be a UUID")
		}
		p.TerritoryID = territoryID
	}
	return p, nil
}

func parseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return t, badParam(field, "must be a date YYYY-MM-DD")
	}
	return t, nil
}

func badParam(field, msg string) error {
	return &domain.Error{Code: domain.CodeBadRequest, Message: "invalid query parameter " + field,
		Fields: []domain.FieldError{{Field: field, Message: msg}}}
}

// day is t's calendar date on the clock of t's location, as a UTC midnight.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Date is a calendar date (a UTC midnight) that encodes as YYYY-MM-DD.
type Date time.Time

func (d Date) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(d).Format(DateLayout) + `"`), nil
}

func (d Date) String() string { return time.Time(d).Format(DateLayout) }

func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.Parse(DateLayout, s)
	*d = Date(t)
	return err
}
