// Command hostile sends hostile request bodies to a Fieldsync server on the
// loopback interface and reports the server's resident memory around each
// attack (docs/benchmarks.md, "Hostile bodies"). It refuses any address that
// is not 127.0.0.1: these are attacks.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, email, password string
	pid                   int
	attack                string
	n                     int
	mib                   int
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8089", "server address (loopback only)")
	fs.IntVar(&o.pid, "pid", 0, "server process id, for /proc/PID/status")
	fs.StringVar(&o.attack, "attack", "bomb-login", "bomb-login, bomb-push or stall")
	fs.IntVar(&o.n, "n", 1, "concurrent requests (connections for stall)")
	fs.IntVar(&o.mib, "mib", 200, "decoded MiB of a bomb")
	fs.StringVar(&o.email, "email", "rep@demo.fieldsync.dev", "login for bomb-push")
	fs.StringVar(&o.password, "password", "demo-rep-pass", "password for bomb-push")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if host, _, err := net.SplitHostPort(o.addr); err != nil || host != "127.0.0.1" {
		return errors.New("-addr must be 127.0.0.1:PORT")
	}
	if o.pid == 0 {
		return errors.New("-pid is required")
	}
	before, err := memory(o.pid)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "attack=%s n=%d before: %s\n", o.attack, o.n, before)
	var statuses []string
	switch o.attack {
	case "bomb-login":
		statuses, err = bomb(ctx, o, "/v1/auth/login", "")
	case "bomb-push":
		var tok string
		if tok, err = login(ctx, o); err == nil {
			statuses, err = bomb(ctx, o, "/v1/sync/push", tok)
		}
	case "stall":
		statuses, err = stall(ctx, o, out)
	default:
		err = fmt.Errorf("unknown attack %q", o.attack)
	}
	if err != nil {
		return err
	}
	after, err := memory(o.pid)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "statuses: %s\nafter: %s\n", strings.Join(statuses, " "), after)
	return nil
}

// bombBody is mib MiB of spaces, gzipped: JSON whitespace, so that only a
// limit stops a decoder from reading all of it.
func bombBody(mib int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	chunk := bytes.Repeat([]byte{' '}, 1<<20)
	for range mib {
		_, _ = zw.Write(chunk)
	}
	_ = zw.Close()
	return buf.Bytes()
}

func bomb(ctx context.Context, o options, path, token string) ([]string, error) {
	body := bombBody(o.mib)
	statuses := make([]string, o.n)
	var wg sync.WaitGroup
	for i := range o.n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+o.addr+path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses[i] = "error"
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			statuses[i] = strconv.Itoa(resp.StatusCode)
		})
	}
	wg.Wait()
	return append(statuses, fmt.Sprintf("(gzip body %d KiB)", len(body)>>10)), nil
}

func login(ctx context.Context, o options) (string, error) {
	b, _ := json.Marshal(map[string]string{"email": o.email, "password": o.password, "device_id": "hostile-bench"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+o.addr+"/v1/auth/login", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	defer resp.Body.Close()
	var r struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Token == "" {
		return "", fmt.Errorf("login: status %d", resp.StatusCode)
	}
	return r.Token, nil
}

// stall opens n connections that each declare a 2 MB login body, send 1 KiB
// of it and wait; it measures the server while they hang, then lets go.
func stall(ctx context.Context, o options, out io.Writer) ([]string, error) {
	conns := make([]net.Conn, 0, o.n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	head := "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n"
	part := append([]byte(head), bytes.Repeat([]byte{' '}, 1<<10)...)
	var d net.Dialer
	for range o.n {
		c, err := d.DialContext(ctx, "tcp", o.addr)
		if err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
		conns = append(conns, c)
		if _, err := c.Write(part); err != nil {
			return nil, fmt.Errorf("write: %w", err)
		}
	}
	time.Sleep(3 * time.Second) // let the server take in what was sent
	m, err := memory(o.pid)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "while %d uploads stall: %s\n", o.n, m)
	// What the server answered on the first few, if anything, without waiting.
	answered := map[string]int{}
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			answered["no answer"]++
			continue
		}
		answered[strings.TrimSpace(line)]++
	}
	var s []string
	for k, v := range answered {
		s = append(s, fmt.Sprintf("%q×%d", k, v))
	}
	return s, nil
}

type mem struct{ rss, hwm int64 }

func (m mem) String() string {
	return fmt.Sprintf("VmRSS=%d MiB VmHWM=%d MiB", m.rss>>10, m.hwm>>10)
}

func memory(pid int) (mem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return mem{}, fmt.Errorf("read process status: %w", err)
	}
	var m mem
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = kb
		case "VmHWM:":
			m.hwm = kb
		}
	}
	return m, nil
}
