package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSpreadAndRatios(t *testing.T) {
	if got := spread([]float64{30, 10, 20}, "%.0f"); got != "10 / 20 / 30" {
		t.Errorf("spread = %q", got)
	}
	if got := spread(nil, "%.0f"); got != "—" {
		t.Errorf("spread of nothing = %q", got)
	}
	// Each run against its own baseline, not against the median baseline.
	if got := perRun(ratios([]float64{50, 30}, []float64{100, 60}), "%.0f%%"); got != "50%, 50%" {
		t.Errorf("ratios = %q", got)
	}
	if got := parseLoadAvg("0.52 1.03 2.40 1/91 27924\n"); got != "0.52 / 1.03 / 2.40" {
		t.Errorf("parseLoadAvg = %q", got)
	}
	if got := parseLoadAvg(""); got != "unknown" {
		t.Errorf("parseLoadAvg of nothing = %q", got)
	}
}

func TestWriteSpreadStatesRunsAndLoad(t *testing.T) {
	var b bytes.Buffer
	r := Result{RawReadRates: []float64{100, 200, 300}, PullRates: []float64{50, 50, 150},
		IdleP50s:  []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond},
		IdleP99s:  []time.Duration{5 * time.Millisecond, 6 * time.Millisecond, 9 * time.Millisecond},
		LoadStart: "0.10 / 0.20 / 0.30", LoadEnd: "1.00 / 0.50 / 0.30"}
	writeSpread(&b, Options{Runs: 3, PushDevices: 8}, r)
	out := b.String()
	for _, want := range []string{
		"Spread over 3 runs",
		"| initial sync via HTTP, gzip (rows/s) | 50 / 50 / 150 | 50%, 25%, 50% |",
		"| empty pull p99 (ms) | 5.0 / 6.0 / 9.0 | 5.0, 6.0, 9.0 |",
		"at start: 0.10 / 0.20 / 0.30; at end: 1.00 / 0.50 / 0.30",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("spread table lacks %q:\n%s", want, out)
		}
	}
}

func TestProcNetField(t *testing.T) {
	p := filepath.Join(t.TempDir(), "netstat")
	data := "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 7 9\nIpExt: InNoRoutes\nIpExt: 3\n"
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := procNetField(p, "TcpExt:", "ListenOverflows"); got != 7 {
		t.Errorf("ListenOverflows = %d", got)
	}
	if got := procNetField(p, "TcpExt:", "Nope"); got != 0 {
		t.Errorf("unknown field = %d", got)
	}
}
