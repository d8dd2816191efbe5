package bench

import (
	"strings"
	"testing"
	"time"
)

// TestJudgeSoak: the soak's verdict on tables whose trend is known.
func TestJudgeSoak(t *testing.T) {
	flat := func(n int) []SoakRow {
		rows := make([]SoakRow, n)
		for i := range rows {
			rows[i] = SoakRow{At: time.Duration(i+1) * time.Minute, RSS: 60 << 20, Goroutines: 40,
				PushP99: 20 * time.Millisecond, PullP99: 8 * time.Millisecond, ReportP99: 30 * time.Millisecond}
		}
		return rows
	}
	cases := []struct {
		name   string
		rows   func() []SoakRow
		judged bool
		want   []string // substrings of the verdict, in order; none: a pass
	}{
		{"flat", func() []SoakRow { return flat(12) }, true, nil},
		{"too short to judge", func() []SoakRow { return flat(5) }, false, nil},
		{"warm-up growth is not a leak", func() []SoakRow {
			r := flat(12)
			r[0].RSS = 10 << 20
			return r
		}, true, nil},
		{"memory keeps growing", func() []SoakRow {
			r := flat(12)
			for i := range r {
				r[i].RSS = int64(60+10*i) << 20
			}
			return r
		}, true, []string{"memory keeps growing"}},
		{"a plateau after a step is not growth", func() []SoakRow {
			r := flat(13)
			for i := 4; i < len(r); i++ {
				r[i].RSS = 90 << 20
			}
			return r
		}, true, nil},
		{"goroutines pile up", func() []SoakRow {
			r := flat(12)
			for i := range r {
				r[i].Goroutines = 40 + 30*i
			}
			return r
		}, true, []string{"goroutines keep growing"}},
		{"pull latency builds", func() []SoakRow {
			r := flat(12)
			for i := range r {
				r[i].PullP99 = time.Duration(8+20*i) * time.Millisecond
			}
			return r
		}, true, []string{"pull latency keeps growing"}},
		{"small latencies doubling are noise", func() []SoakRow {
			r := flat(12)
			for i := 8; i < len(r); i++ {
				r[i].PullP99 = 30 * time.Millisecond
			}
			return r
		}, true, nil},
		{"a failed request fails the soak", func() []SoakRow {
			r := flat(3)
			r[1].Errors, r[1].firstRequestErrorOfRow = 2, "POST /v1/sync/push: 503"
			return r
		}, false, []string{"2 failed requests", "503"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			verdict, judged := judgeSoak(tc.rows())
			if judged != tc.judged {
				t.Errorf("judged = %v, want %v", judged, tc.judged)
			}
			got := strings.Join(verdict, "\n")
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("verdict %q, want a pass", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("verdict %q lacks %q", got, w)
				}
			}
		})
	}
}
