package server

import (
	"io"
	"strings"
	"testing"
	"time"
)

// deadlines records the write deadlines set on a connection.
type deadlines struct{ set []time.Time }

func (d *deadlines) SetWriteDeadline(t time.Time) error { d.set = append(d.set, t); return nil }

// TestStreamedBodyExtendsTheWriteDeadlinePerChunk: every chunk read from an
// export's pipe gets the write timeout from the moment it is handed to the
// server, so a download longer than the timeout is not cut as long as each
// chunk is written within it; reading nothing (the end) sets nothing. The
// clock is the test's, so no time passes.
func TestStreamedBodyExtendsTheWriteDeadlinePerChunk(t *testing.T) {
	clock := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	conn := &deadlines{}
	r := &deadlineReader{r: strings.NewReader("abcdefgh"), conn: conn, timeout: time.Minute,
		now: func() time.Time { clock = clock.Add(5 * time.Minute); return clock }}
	buf := make([]byte, 3)
	var got []string
	for {
		n, err := r.Read(buf)
		if n > 0 {
			got = append(got, string(buf[:n]))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, "|") != "abc|def|gh" || len(conn.set) != 3 {
		t.Fatalf("chunks %q, deadlines %v", got, conn.set)
	}
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for i, d := range conn.set {
		if want := start.Add(time.Duration(i+1)*5*time.Minute + time.Minute); !d.Equal(want) {
			t.Fatalf("deadline %d: %v, want %v (a minute after the chunk's read)", i, d, want)
		}
	}
}
