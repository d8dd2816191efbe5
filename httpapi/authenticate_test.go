package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// issue stores a token of the given kind directly, as the dashboard's session
// login would.
func issue(t *testing.T, db *store.DB, userID, kind, secret string) {
	t.Helper()
	sum := sha256.Sum256([]byte(secret))
	now := db.Now()
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		return store.CreateToken(tx, store.TokenRecord{Hash: hex.EncodeToString(sum[:]), UserID: userID,
			DeviceID: "browser", Kind: kind, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticate(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		svc, err := auth.New(db, auth.Config{BcryptCost: bcrypt.MinCost}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		userID := uuid.NewString()
		err = db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := store.CreateUser(tx, store.UserRecord{Email: "m@x.io", PasswordHash: "x",
				User: domain.User{ID: userID, Name: "M", Role: domain.RoleManager}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		issue(t, db, userID, auth.KindDevice, "device-secret")
		issue(t, db, userID, auth.KindSession, "session-secret")

		app := newApp(t)
		app.Get("/who", httpapi.Authenticate(svc), func(c *fiber.Ctx) error {
			p := httpapi.PrincipalOf(c)
			return c.SendString(p.UserID + " " + string(p.Role) + " " + p.DeviceID)
		})
		resp, b := call(t, app, "GET", "/who", "", "Authorization", "bearer device-secret")
		if resp.StatusCode != 200 || string(b) != userID+" manager browser" {
			t.Errorf("device token: %d %s", resp.StatusCode, b)
		}
		for name, header := range map[string]string{
			"Missing":      "",
			"NoScheme":     "device-secret",
			"BasicScheme":  "Basic ZGV2aWNlLXNlY3JldA==",
			"EmptyToken":   "Bearer ",
			"UnknownToken": "Bearer nope",
			"SessionToken": "Bearer session-secret",
		} {
			resp, b := call(t, app, "GET", "/who", "", "Authorization", header)
			if resp.StatusCode != 401 || errorBody(t, b).Code != string(domain.CodeUnauthorized) {
				t.Errorf("%s: %d %s, want 401", name, resp.StatusCode, b)
			}
		}
	})
}
