package backoffice

import (
	"testing"
	"time"
)

// The order list's submitted_from and submitted_to dates are the
// organisation's days: 29 March 2026 in Berlin is 23 hours long, from 23:00Z
// on the 28th; 25 October 25 hours, to 23:00Z; 30 November in Los Angeles
// ends at 08:00Z on 1 December. An RFC 3339 time stays the instant it names.
func TestParseWhen_Zone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		end  bool
		zone *time.Location
		want string
	}{
		{"2026-03-29", false, berlin, "2026-03-28T23:00:00Z"},
		{"2026-03-29", true, berlin, "2026-03-29T22:00:00Z"},
		{"2026-10-25", false, berlin, "2026-10-24T22:00:00Z"},
		{"2026-10-25", true, berlin, "2026-10-25T23:00:00Z"},
		{"2026-11-30", true, la, "2026-12-01T08:00:00Z"},
		{"2026-11-30", true, time.UTC, "2026-12-01T00:00:00Z"},
		{"2026-11-30T20:00:00-08:00", false, berlin, "2026-12-01T04:00:00Z"},
	} {
		got, err := parseWhen(c.in, c.end, c.zone)
		if err != nil || got.Format(time.RFC3339) != c.want {
			t.Errorf("parseWhen(%s, end %v, %s) = %v %v, want %s", c.in, c.end, c.zone, got, err, c.want)
		}
	}
}
