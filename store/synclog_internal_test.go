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
