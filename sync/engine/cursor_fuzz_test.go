package engine

import "testing"

// FuzzCursorDecode: any string a client sends as a cursor decodes or fails with
// errBadCursor (answered by a reset); it never panics, and what decodes
// re-encodes to a cursor that decodes to the same state.
func FuzzCursorDecode(f *testing.F) {
	var c cursorCodec
	f.Add("")
	f.Add("!!")
	f.Add("eyJ2IjoxfQ")
	f.Add(c.encode(cursorState{U: "u", S: 1, X: 10, Q: 20}))
	f.Add(c.encode(cursorState{U: "u", S: 2, X: 10, Q: 20, O: 1, P: phaseLeave, PX: 3, PQ: 4}))
	f.Add(c.encode(cursorState{U: "u", S: 2, P: "bogus", O: 1}))
	f.Fuzz(func(t *testing.T, s string) {
		st, err := c.decode(s)
		if err != nil {
			return
		}
		again, err := c.decode(c.encode(st))
		if err != nil || again != st {
			t.Fatalf("round trip of %+v: %+v, %v", st, again, err)
		}
	})
}
