package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// childServer is `fieldsync serve` in its own process, so its memory is its own.
type childServer struct {
	cmd  *exec.Cmd
	base string
}

// startServer starts the server on a free loopback port, its log in a fresh
// temporary directory (kept, for reading after a failed run).
func startServer(ctx context.Context, bin, dsn string, env ...string) (*childServer, error) {
	logDir, err := os.MkdirTemp("", "fieldsync-bench-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	logf, err := os.Create(filepath.Join(logDir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "FIELDSYNC_DATABASE_URL="+dsn, "FIELDSYNC_ADDR="+addr,
		"FIELDSYNC_LOG_LEVEL=warn", "FIELDSYNC_DB_MAX_CONNS=40")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &childServer{cmd: cmd, base: "http://" + addr}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(s.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.stop()
	return nil, fmt.Errorf("server did not become ready; see %s", logf.Name())
}

// peakRSS is the server's peak resident memory (VmHWM) in bytes.
func (s *childServer) peakRSS() (int64, error) {
	return procStatusBytes(s.cmd.Process.Pid, "VmHWM:")
}

func (s *childServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

// scrapeMetrics returns the lines of the server's /metrics whose series name
// starts with one of prefixes (comments included), for the report.
func scrapeMetrics(ctx context.Context, base string, prefixes ...string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("scrape metrics: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", fmt.Errorf("scrape metrics: %w", err)
	}
	var out strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				out.WriteString(line + "\n")
				break
			}
		}
	}
	return out.String(), nil
}

// tcpCounters are the kernel's counts that betray a full accept queue or a
// lost SYN: either costs a connection a 1 s retransmission timeout.
type tcpCounters struct{ ListenOverflows, ListenDrops, RetransSegs, ActiveOpens int64 }

// readTCPCounters reads them from /proc/net/netstat and /proc/net/snmp (the
// whole machine's counts; zero where they cannot be read).
func readTCPCounters() tcpCounters {
	var c tcpCounters
	c.ListenOverflows = procNetField("/proc/net/netstat", "TcpExt:", "ListenOverflows")
	c.ListenDrops = procNetField("/proc/net/netstat", "TcpExt:", "ListenDrops")
	c.RetransSegs = procNetField("/proc/net/snmp", "Tcp:", "RetransSegs")
	c.ActiveOpens = procNetField("/proc/net/snmp", "Tcp:", "ActiveOpens")
	return c
}

func (c tcpCounters) sub(d tcpCounters) tcpCounters {
	return tcpCounters{c.ListenOverflows - d.ListenOverflows, c.ListenDrops - d.ListenDrops, c.RetransSegs - d.RetransSegs, c.ActiveOpens - d.ActiveOpens}
}

// procNetField reads one counter of a /proc/net table, where a header line
// of names is followed by a line of values with the same prefix.
func procNetField(path, prefix, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	lines := strings.Split(string(b), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !strings.HasPrefix(lines[i], prefix) || !strings.HasPrefix(lines[i+1], prefix) {
			continue
		}
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		for j := range names {
			if names[j] == name && j < len(values) {
				n, _ := strconv.ParseInt(values[j], 10, 64)
				return n
			}
		}
	}
	return 0
}

// serverCPU is the server's CPU time so far (process_cpu_seconds_total).
func serverCPU(ctx context.Context, base string) (time.Duration, error) {
	text, err := scrapeMetrics(ctx, base, "process_cpu_seconds_total")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("process_cpu_seconds_total %q: %w", v, err)
			}
			return time.Duration(f * float64(time.Second)), nil
		}
	}
	return 0, fmt.Errorf("the server exports no process_cpu_seconds_total")
}

// selfCPU is this process's CPU time so far (user and system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
