package jstest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/servetest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
)

// TestWatermelonDB runs the real WatermelonDB (0.28, LokiJS adapter in
// memory, jstest/watermelondb) against a real server on SQLite and on
// Postgres: jstest/watermelondb/sync.test.js holds the scenarios.
func TestWatermelonDB(t *testing.T) {
	dir, err := filepath.Abs("watermelondb")
	if err != nil {
		t.Fatal(err)
	}
	wmdbNode(t, dir)
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		srv, url := wmdbServe(t, db)
		org := wmdbSeed(t, db, srv.Auth.HashPassword)
		wmdbRun(t, dir, url, org, db)
	})
}

// wmdbNode makes sure node and the pinned packages are there. Without node
// the test is skipped, loudly, or fails when CI=true.
func wmdbNode(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		msg := "node is not installed: the WatermelonDB tests (jstest/watermelondb) DID NOT RUN"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintln(os.Stderr, "\n!!!!!!!!!! "+msg+" !!!!!!!!!!")
		t.Skip(msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@nozbe", "watermelondb")); err == nil {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--silent")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// wmdbServe serves a new server on db until the test ends.
func wmdbServe(t *testing.T, db *store.DB) (*server.Server, string) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	srv, err := server.New(cfg, db, slog.New(slog.NewTextHandler(wmdbLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	return srv, servetest.Start(t, srv)
}

type wmdbLog struct{ t *testing.T }

func (l wmdbLog) Write(p []byte) (int, error) {
	l.t.Logf("server: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}

const wmdbPassword = "correct horse battery"

// wmdbSeed seeds region R with territories T1 and T2; rep1 works T1 and owns
// the key account in T2; rep2 works T2; rep3 works T1; ops administers.
// Accounts a1 and a1b are in T1, a2 in T2; note1 is rep1's note on a1.
func wmdbSeed(t *testing.T, db *store.DB, hash func(string) (string, error)) map[string]string {
	t.Helper()
	ctx := context.Background()
	admin := backoffice.NewAdmin(db, hash)
	org := map[string]string{"password": wmdbPassword}
	must := func(id string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	terr := func(name string, parent *string) string {
		got, err := admin.CreateTerritory(ctx, backoffice.TerritoryInput{Name: name, ParentID: parent})
		return must(got.ID, err)
	}
	region := terr("Region North", nil)
	org["t1"], org["t2"] = terr("T1 Harbour", &region), terr("T2 Hills", &region)
	for _, u := range []struct {
		key  string
		role domain.Role
		terr []string
	}{{"rep1", domain.RoleRep, []string{org["t1"]}}, {"rep2", domain.RoleRep, []string{org["t2"]}},
		{"rep3", domain.RoleRep, []string{org["t1"]}}, {"ops", domain.RoleOps, nil}} {
		got, err := admin.CreateUser(ctx, backoffice.UserInput{Email: u.key + "@acme.test", Name: u.key, Role: u.role,
			Password: wmdbPassword, TerritoryIDs: u.terr})
		org[u.key] = must(got.ID, err)
		org[u.key+"_email"] = u.key + "@acme.test"
	}
	rep1 := org["rep1"]
	for _, a := range []struct {
		key, name, terr string
		owner           *string
	}{{"a1", "Alpha Bakery", org["t1"], nil}, {"a1b", "Beta Books", org["t1"], nil},
		{"a2", "Gamma Garage", org["t2"], nil}, {"key", "Key Foods", org["t2"], &rep1}} {
		phone := "+49 30 1234"
		got, err := admin.CreateAccount(ctx, backoffice.AccountInput{Name: a.name, TerritoryID: a.terr, OwnerID: a.owner,
			Class: "A", Phone: &phone})
		org[a.key] = must(got.ID, err)
	}
	price, active := int64(1999), true
	p, err := admin.CreateProduct(ctx, backoffice.ProductInput{SKU: "SKU-1", Name: "Product 1", UnitPriceCents: &price,
		Currency: "EUR", Active: &active})
	org["p1"] = must(p.ID, err)
	return org
}

// wmdbRun runs the Node scenarios. The script asks the test for what only
// the server side can do by printing "@@<json>" lines and reading one JSON
// line back on its stdin.
func wmdbRun(t *testing.T, dir, url string, org map[string]string, db *store.DB) {
	t.Helper()
	orgJSON, _ := json.Marshal(org)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "sync.test.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FIELDSYNC_URL="+url, "FIELDSYNC_ORG="+string(orgJSON))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "@@") {
			t.Log("node: " + line)
			continue
		}
		reply := wmdbControl(t, db, line[2:])
		if _, err := io.WriteString(stdin, reply+"\n"); err != nil {
			t.Errorf("reply to node: %v", err)
		}
	}
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node sync.test.js: %v\n%s", err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Log("node stderr: " + s)
	}
}

// wmdbControl answers one request of the script.
func wmdbControl(t *testing.T, db *store.DB, req string) string {
	var r struct {
		Cmd string `json:"cmd"`
	}
	if err := json.Unmarshal([]byte(req), &r); err != nil {
		return `{"error":"bad request"}`
	}
	switch r.Cmd {
	case "settle":
		if err := wmdbSettle(db); err != nil {
			t.Error(err)
			return `{"error":"settle failed"}`
		}
		return `{}`
	}
	return `{"error":"unknown command"}`
}

// wmdbSettle waits until a pull can deliver every committed change: on
// Postgres a pull delivers only entries below the bound of running
// transactions, and other work on the test cluster may hold it back for a
// moment; a scenario that checks what one sync brought must not race it.
func wmdbSettle(db *store.DB) error {
	if db.Dialect != store.Postgres {
		return nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		bound, err := store.PullBound(db.Autocommit(context.Background()))
		if err != nil {
			return err
		}
		var behind int64
		if err := db.Gorm.Raw(`SELECT count(*) FROM change_log WHERE xid >= ?::xid8`,
			strconv.FormatUint(bound, 10)).Scan(&behind).Error; err != nil {
			return err
		}
		if behind == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d change-log entries stayed undeliverable for 30s", behind)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
