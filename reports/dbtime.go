package reports

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// nullTime scans a timestamp that may come back as text: SQLite returns an
// aggregate such as MAX(checked_in_at) as the stored string, since an
// expression has no declared column type for the driver to convert by.
type nullTime struct {
	Time  time.Time
	Valid bool
}

// sqliteLayouts are the forms the SQLite driver writes times in.
var sqliteLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	time.RFC3339Nano,
}

func (n *nullTime) Scan(v any) error {
	n.Valid = v != nil
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		n.Time = x.UTC()
		return nil
	case string:
		return n.parse(x)
	case []byte:
		return n.parse(string(x))
	}
	return fmt.Errorf("scan time from %T", v)
}

func (n *nullTime) parse(s string) error {
	for _, l := range sqliteLayouts {
		if t, err := time.Parse(l, s); err == nil {
			n.Time = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("scan time from %q", s)
}

func (n nullTime) Value() (driver.Value, error) {
	if !n.Valid {
		return nil, nil
	}
	return n.Time, nil
}

func (n nullTime) ptr() *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time
	return &t
}
