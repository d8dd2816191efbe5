package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestServe_RefusesASecondProcessOnSQLite: while a process holds the serve
// lock of a SQLite file, `fieldsync serve` on that file exits non-zero with a
// message that says why and what to do, before migrating or listening. The
// lock is held here by a child process (another fieldsync, as far as the
// kernel is concerned); the refused serve runs as a real process too, so its
// exit status is checked.
func TestServe_RefusesASecondProcessOnSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	holder := helperProcess(t, "hold-lock", path)
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	// The holder prints once it holds the lock: no sleeping.
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "locked" {
		t.Fatalf("holder: %q, %v", buf, err)
	}
	serve := helperProcess(t, "main", "serve", "--database-url", path, "--addr", "127.0.0.1:0")
	var out bytes.Buffer
	serve.Stdout, serve.Stderr = &out, &out
	err = serve.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("second serve: %v; want exit status 1; output:\n%s", err, out.String())
	}
	msg := out.String()
	for _, want := range []string{"already served by another fieldsync process", "pid ", "one process only", "Postgres"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "listening") || strings.Contains(msg, "database ready") {
		t.Errorf("the refused serve went on to open the database:\n%s", msg)
	}
	// Once the holder is gone (even by kill -9) the lock goes with it.
	_ = holder.Process.Kill()
	_ = holder.Wait()
	lock, err := lockSQLite(path)
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	_ = lock.Close()
}

// helperProcess runs this test binary as a child that does what TestHelper
// says for role.
func helperProcess(t *testing.T, role string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "FIELDSYNC_HELPER_ROLE="+role)
	return cmd
}

// TestHelperProcess is not a test: it is the child of helperProcess.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv("FIELDSYNC_HELPER_ROLE")
	if role == "" {
		t.Skip("helper process only")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	switch role {
	case "hold-lock":
		if _, err := lockSQLite(args[0]); err != nil {
			os.Stdout.WriteString(err.Error())
			os.Exit(3)
		}
		os.Stdout.WriteString("locked")
		time.Sleep(time.Hour) // until the test kills it
	case "main":
		os.Args = append([]string{"fieldsync"}, args...)
		main()
		os.Exit(0)
	}
}

// TestRun_CompactHasOneLeader: with several instances each scheduling
// `fieldsync compact`, one compacts; one that finds another compacting (here
// the test holding the lead) does nothing and says so.
func TestRun_CompactHasOneLeader(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.DSN(t, store.Postgres)
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "--database-url", dsn}, &out, &out); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Gorm.Exec(`INSERT INTO change_log (tbl, row_id, scope_key, op, reason, version, created_at)
		VALUES ('visits', '11111111-1111-4111-8111-111111111111', 't:x', 'delete', 'deleted', 2, ?)`,
		db.Now().Add(-100*24*time.Hour)).Error; err != nil {
		t.Fatal(err)
	}
	left := func() (n int64) { db.Gorm.Table("change_log").Count(&n); return n }
	led, err := store.WithLeader(ctx, db, store.LeaderCompact, func(context.Context) error {
		out.Reset()
		if err := run(ctx, []string{"compact", "--database-url", dsn, "--retain", "720h"}, &out, &out); err != nil {
			return err
		}
		if !strings.Contains(out.String(), "another compaction is running") || left() != 1 {
			t.Errorf("compact while another leads: %q, %d entries left; want nothing done", out.String(), left())
		}
		return nil
	})
	if err != nil || !led {
		t.Fatal(led, err)
	}
	out.Reset()
	if err := run(ctx, []string{"compact", "--database-url", dsn, "--retain", "720h"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "removed 1 tombstone") || left() != 0 {
		t.Errorf("compact after the release: %q, %d left", out.String(), left())
	}
}
