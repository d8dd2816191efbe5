package store

import "testing"

func TestPgTextArray(t *testing.T) {
	for in, want := range map[string]string{
		"":        `{}`,
		"a":       `{"a"}`,
		"a|t:b-1": `{"a","t:b-1"}`,
		`q"|x\y`:  `{"q\"","x\\y"}`,
	} {
		var ss []string
		if in != "" {
			ss = splitBar(in)
		}
		if got := pgTextArray(ss); got != want {
			t.Errorf("pgTextArray(%q) = %s, want %s", ss, got, want)
		}
	}
}

func splitBar(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// TestSnapshotBound_Settles: the bound is the lowest running xid of this
// database, or of no database any more (a transaction that finished between
// the snapshot and the read of the backends: its database is unknown, so it
// holds the bound back, and the answer is unsettled when it is what held
// it); xids of other databases' backends never hold it.
func TestSnapshotBound_Settles(t *testing.T) {
	here, other := true, false
	type run struct {
		xid  string
		here *bool
	}
	for _, c := range []struct {
		name    string
		running []run
		bound   uint64
		settled bool
	}{
		{"none running", nil, 100, true},
		{"this database", []run{{"90", &here}, {"95", &here}}, 90, true},
		{"another database", []run{{"80", &other}}, 100, true},
		{"finished below this database's", []run{{"85", nil}, {"90", &here}}, 85, false},
		{"finished above this database's", []run{{"95", nil}, {"90", &here}}, 90, true},
		{"finished alone", []run{{"70", nil}, {"60", &other}}, 70, false},
	} {
		bound, settled, err := snapshotBound("100", func(yield func(string, *bool) bool) {
			for _, r := range c.running {
				if !yield(r.xid, r.here) {
					return
				}
			}
		})
		if err != nil || bound != c.bound || settled != c.settled {
			t.Errorf("%s: bound %d settled %v err %v, want %d %v", c.name, bound, settled, err, c.bound, c.settled)
		}
	}
	if _, _, err := snapshotBound("x", func(func(string, *bool) bool) {}); err == nil {
		t.Error("a bad xmax gave no error")
	}
}
