package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// signedIn is one user signed in on a phone and on the dashboard.
type signedIn struct {
	id, phone string
	browser   *browser
}

func (e *adminEnv) signInEverywhere(email string, territories ...string) signedIn {
	e.t.Helper()
	id := e.user(email, domain.RoleManager, territories...)
	b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
	if resp, _ := b.signIn(e.t, email, "password1"); resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("dashboard sign-in of %s: %d", email, resp.StatusCode)
	}
	return signedIn{id: id, phone: e.login(email, "password1", "phone-"+email), browser: b}
}

// sessionLive says whether the browser's dashboard session still opens the
// dashboard (a dead one gets the login form).
func (s signedIn) sessionLive(t *testing.T) bool {
	t.Helper()
	_, page := s.browser.send(t, "GET", "/dashboard", nil)
	return !strings.Contains(page, `action="/dashboard/login"`)
}

func (e *adminEnv) phoneLive(token string) bool {
	e.t.Helper()
	status, _ := e.do("GET", "/v1/me", token, "")
	return status == http.StatusOK
}

// TestAdmin_UserChangesEndSessions: a new password or role revokes every
// device token and dashboard session of the user; a new name or territory
// does not (scope is read on every request).
func TestAdmin_UserChangesEndSessions(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		region := e.territory("Region", nil)
		cases := []struct {
			name, patch string
			ends        bool
		}{
			{"Password", `{"password":"another password"}`, true},
			{"Role", `{"role":"director"}`, true},
			{"SameRole", `{"role":"manager"}`, false},
			{"Name", `{"name":"New Name"}`, false},
			{"Territories", `{"territory_ids":["` + region.ID + `"]}`, false},
			{"Deactivate", `{"active":false}`, true},
			{"StayActive", `{"active":true}`, false},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u := e.signInEverywhere("user" + strconv.Itoa(i) + "@example.com")
				if !e.phoneLive(u.phone) || !u.sessionLive(t) {
					t.Fatal("not signed in before the change")
				}
				e.ok("PATCH", "/v1/admin/users/"+u.id, tc.patch, 200, nil)
				if got := e.phoneLive(u.phone); got == tc.ends {
					t.Errorf("phone token live after the change = %v, want %v", got, !tc.ends)
				}
				if got := u.sessionLive(t); got == tc.ends {
					t.Errorf("dashboard session live after the change = %v, want %v", got, !tc.ends)
				}
				if tc.ends {
					var list deviceList
					e.ok("GET", "/v1/admin/users/"+u.id+"/devices", "", 200, &list)
					for _, d := range list.Items {
						if d.RevokedAt == nil {
							t.Errorf("device %s not shown revoked", d.DeviceID)
						}
					}
				}
			})
		}
		t.Run("NewPasswordSignsInAgain", func(t *testing.T) {
			u := e.signInEverywhere("again@example.com")
			e.ok("PATCH", "/v1/admin/users/"+u.id, `{"password":"the new one"}`, 200, nil)
			if tok := e.login("again@example.com", "the new one", "phone-again@example.com"); !e.phoneLive(tok) {
				t.Error("a sign-in after the change does not work")
			}
		})
	})
}

// TestAdmin_Deactivate: a deactivated user cannot sign in (the answer of a
// wrong password) and is shown inactive; reactivated, they sign in again.
func TestAdmin_Deactivate(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		u := e.signInEverywhere("leaver@example.com")
		var got struct {
			Active  bool  `json:"active"`
			Version int64 `json:"version"`
		}
		e.ok("GET", "/v1/admin/users/"+u.id, "", 200, &got)
		if !got.Active {
			t.Fatal("a new user is not active")
		}
		version := got.Version
		e.ok("PATCH", "/v1/admin/users/"+u.id, `{"active":false}`, 200, &got)
		if got.Active || got.Version != version {
			t.Errorf("after deactivation: active=%v version=%d (was %d); want inactive, no synced change", got.Active, got.Version, version)
		}
		body, _ := json.Marshal(wire.LoginRequest{Email: "leaver@example.com", Password: "password1", DeviceID: "phone-2"})
		wrong, _ := json.Marshal(wire.LoginRequest{Email: "leaver@example.com", Password: "not it at all", DeviceID: "phone-2"})
		d := e.fails("POST", "/v1/auth/login", "", string(body), 401)
		if w := e.fails("POST", "/v1/auth/login", "", string(wrong), 401); w.Message != d.Message {
			t.Errorf("deactivated: %q; wrong password: %q; want the same answer", d.Message, w.Message)
		}
		if resp, _ := u.browser.signIn(t, "leaver@example.com", "password1"); resp.StatusCode != 401 {
			t.Errorf("dashboard sign-in of a deactivated user = %d, want 401", resp.StatusCode)
		}
		e.fails("PATCH", "/v1/admin/users/"+u.id, "", `{"active":false}`, 401) // no token: sanity of the helper
		if d := e.fails("PATCH", "/v1/admin/users/"+u.id, e.ops, `{"active":null}`, 422); d.Fields[0].Field != "active" {
			t.Errorf("active null: %+v", d)
		}
		e.ok("PATCH", "/v1/admin/users/"+u.id, `{"active":true}`, 200, &got)
		if tok := e.login("leaver@example.com", "password1", "phone-3"); !got.Active || !e.phoneLive(tok) {
			t.Error("a reactivated user cannot sign in")
		}
		if e.phoneLive(u.phone) {
			t.Error("reactivation brought an old token back")
		}
	})
}

type deviceList struct {
	Items []wire.Device `json:"items"`
}

// TestAdmin_SessionsAreDevices: a dashboard session is listed among the
// user's devices (admin list and /v1/me) and ops can revoke it alone.
func TestAdmin_SessionsAreDevices(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		u := e.signInEverywhere("mgr@example.com")
		session := func(items []wire.Device) wire.Device {
			t.Helper()
			var found []wire.Device
			for _, d := range items {
				if strings.HasPrefix(d.DeviceID, auth.SessionDevicePrefix) {
					found = append(found, d)
				}
			}
			if len(found) != 1 || found[0].DeviceName == nil || *found[0].DeviceName != auth.SessionDeviceName {
				t.Fatalf("sessions listed = %+v, want one named %q", found, auth.SessionDeviceName)
			}
			return found[0]
		}
		var list deviceList
		e.ok("GET", "/v1/admin/users/"+u.id+"/devices", "", 200, &list)
		if len(list.Items) != 2 {
			t.Fatalf("devices = %+v, want the phone and the session", list.Items)
		}
		s := session(list.Items)
		status, b := e.do("GET", "/v1/me", u.phone, "")
		var me wire.MeResponse
		if status != 200 || json.Unmarshal(b, &me) != nil {
			t.Fatalf("me: %d %s", status, b)
		}
		if got := session(me.Devices); got.DeviceID != s.DeviceID || got.RevokedAt != nil {
			t.Errorf("/v1/me lists the session as %+v", got)
		}

		e.ok("DELETE", "/v1/admin/devices/"+url.PathEscape(s.DeviceID), "", 204, nil)
		if u.sessionLive(t) {
			t.Error("the revoked session still opens the dashboard")
		}
		if !e.phoneLive(u.phone) {
			t.Error("revoking the session ended the phone's token")
		}
		e.ok("GET", "/v1/admin/users/"+u.id+"/devices", "", 200, &list)
		if session(list.Items).RevokedAt == nil {
			t.Error("the revoked session is not shown revoked")
		}

		t.Run("PhoneMayNotPoseAsSession", func(t *testing.T) {
			body, _ := json.Marshal(wire.LoginRequest{Email: "mgr@example.com", Password: "password1", DeviceID: s.DeviceID})
			if d := e.fails("POST", "/v1/auth/login", "", string(body), 422); !strings.Contains(d.Fields[0].Message, "dashboard:") {
				t.Errorf("fields = %+v", d.Fields)
			}
		})
	})
}

// TestDashboard_RateLimitRetryAfter: the dashboard's 429 tells the browser when
// to try again, like the API's.
func TestDashboard_RateLimitRetryAfter(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		e.user("limited@example.com", domain.RoleManager)
		b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
		var resp *http.Response
		for range server.DefaultConfig().LoginFailuresPerEmail + 1 {
			resp, _ = b.signIn(t, "limited@example.com", "wrong password")
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("after the failures: %d, want 429", resp.StatusCode)
		}
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Errorf("Retry-After = %q, want whole seconds ≥ 1", resp.Header.Get("Retry-After"))
		}
	})
}
