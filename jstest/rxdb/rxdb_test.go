// Package rxdb_test runs the RxDB test project in this directory (RxDB 17 with
// its memory storage, in Node) against a real Fieldsync server started here,
// on SQLite and on Postgres. Without node it skips under a loud banner; with
// CI=true a missing node is a failure.
package rxdb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/servetest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

const banner = `
##########################################################################
##                                                                      ##
##   RXDB TESTS SKIPPED: node/npm not found. The real-library tests     ##
##   of jstest/rxdb did not run. Install nodejs and npm to run them.    ##
##                                                                      ##
##########################################################################
`

// needNode finds node and npm, installs the locked dependencies when they
// are missing, or skips (fails on CI).
func needNode(t *testing.T) {
	t.Helper()
	_, errNode := exec.LookPath("node")
	_, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node and npm are required on CI (CI=true)" + banner)
		}
		os.Stderr.WriteString(banner)
		t.Skip("node/npm not installed" + banner)
	}
	if _, err := os.Stat("node_modules/rxdb"); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--silent")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("npm ci: %v", err)
		}
	}
}

// jsConfig is what the Node test is told: where the server is, who it signs
// in as, and the ids of the seeded rows.
type jsConfig struct {
	Base      string            `json:"base"`
	Tokens    map[string]string `json:"tokens"`
	Users     map[string]string `json:"users"`
	Accounts  map[string]string `json:"accounts"`
	Territory map[string]string `json:"territories"`
}

// TestRxDB: initial sync of a rep's scope; offline create, edit, delete
// reaching the server; another device's edit arriving through the stream;
// concurrent edits converging; an account moved out of the territory
// disappearing; a rejected create reported and not resent; RESYNC after the
// stream reconnects (jstest/rxdb/rxdb.test.mjs).
func TestRxDB(t *testing.T) {
	needNode(t)
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		cfg := seed(t, db)
		b, _ := json.Marshal(cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", "--test", "--test-concurrency=1", "rxdb.test.mjs")
		cmd.Env = append(os.Environ(), "FIELDSYNC_JSTEST="+string(b))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		t.Log(out.String())
		if err != nil {
			t.Fatalf("node --test rxdb.test.mjs: %v", err)
		}
	})
}

func seed(t *testing.T, db *store.DB) jsConfig {
	t.Helper()
	scfg := server.DefaultConfig()
	scfg.BcryptCost = bcrypt.MinCost
	srv, err := server.New(scfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	base := servetest.Start(t, srv)
	c := jsConfig{Base: base, Tokens: map[string]string{}, Users: map[string]string{},
		Accounts: map[string]string{}, Territory: map[string]string{"t1": uuid.NewString(), "t2": uuid.NewString()}}
	for _, a := range []string{"acc1", "accMoved", "acc2"} {
		c.Accounts[a] = uuid.NewString()
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("password1"), bcrypt.MinCost)
	users := []struct {
		name  string
		role  domain.Role
		terrs []string
	}{{"rep1", domain.RoleRep, []string{c.Territory["t1"]}}, {"rep2", domain.RoleRep, []string{c.Territory["t2"]}},
		{"ops", domain.RoleOps, nil}}
	err = db.InTx(context.Background(), func(tx *store.Tx) error {
		now := db.Now()
		for _, name := range []string{"t1", "t2"} {
			if _, err := store.CreateTerritory(tx.At(now), domain.Territory{ID: c.Territory[name], Name: name}); err != nil {
				return err
			}
		}
		for _, u := range users {
			id := uuid.NewString()
			c.Users[u.name] = id
			if _, err := store.CreateUser(tx.At(now), store.UserRecord{Email: u.name + "@example.com", PasswordHash: string(hash),
				User: domain.User{ID: id, Name: u.name, Role: u.role, TerritoryIDs: u.terrs}}); err != nil {
				return err
			}
		}
		lat, lng := 48.1, 11.5
		for name, terr := range map[string]string{"acc1": "t1", "accMoved": "t1", "acc2": "t2"} {
			if _, err := store.CreateAccount(tx.At(now), domain.Account{ID: c.Accounts[name], Name: "Account " + name,
				TerritoryID: c.Territory[terr], Class: domain.ClassA, Status: domain.AccountActive, Lat: &lat, Lng: &lng}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dev, who := range map[string]string{"rep1-a": "rep1", "rep1-b": "rep1", "rep2": "rep2", "ops": "ops"} {
		body, _ := json.Marshal(wire.LoginRequest{Email: who + "@example.com", Password: "password1", DeviceID: dev})
		resp, err := http.Post(c.Base+"/v1/auth/login", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var lr wire.LoginResponse
		err = json.NewDecoder(resp.Body).Decode(&lr)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("login %s: %d %v", dev, resp.StatusCode, err)
		}
		c.Tokens[dev] = lr.Token
	}
	return c
}
