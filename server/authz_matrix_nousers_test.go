package server_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
)

// checkNoUsers: callers who are not (or no longer) users reach no row of the
// attachment lane or the dashboard, whatever the row: an integration's API key
// and a deactivated user's device token get 401 on the API; a deactivated
// user's dashboard session answers as a browser without one (a rep's: the
// login form, 403 for a form, 401 for an image). Every probe is the rep's
// request of each kind of row, generated from the matrix's entries.
func checkNoUsers(t *testing.T, base *matrix) {
	m := *base
	m.office = base.in(t)
	key, err := m.srv.Auth.CreateAPIKey(context.Background(), auth.APIKeyInput{Name: fmt.Sprintf("Matrix %d", m.seq())})
	if err != nil {
		t.Fatal(err)
	}
	// A manager of region R, signed in on a phone and on the dashboard,
	// then deactivated by ops.
	email := fmt.Sprintf("gone%d@example.com", m.seq())
	id := m.user(email, domain.RoleManager, m.r)
	token := m.login(email, officePassword, "phone-gone")
	gone, resp := m.deskSignIn(t, strings.TrimSuffix(email, "@example.com"))
	if resp.StatusCode != 303 {
		t.Fatalf("the manager signs in: %d", resp.StatusCode)
	}
	m.ok("PATCH", "/v1/admin/users/"+id, `{"active":false}`, 200, nil)

	entries := attachmentEntries()
	maps.Copy(entries, dashboardEntries())
	for _, route := range slices.Sorted(maps.Keys(entries)) {
		e := entries[route]
		variants := e.variants
		if len(variants) == 0 {
			variants = []string{""}
		}
		for _, v := range variants {
			for _, k := range e.kinds {
				p := e.req(&m, domain.RoleRep, k, v)
				name := strings.TrimSpace(fmt.Sprintf("%s %s %s", route, v, k))
				if p.session {
					w := e.want(domain.RoleRep, k, v)
					p.browser = gone
					got, raw := m.send(domain.RoleRep, p)
					status := map[want]int{signInForm: 200, deny: 403, unauthenticated: 401}[w]
					if got.status != status || (w == signInForm && !strings.Contains(raw, "login-form")) {
						t.Errorf("%s, deactivated user's session: %d %s, want %d as without a session", name, got.status, raw, status)
					}
					continue
				}
				for caller, tok := range map[string]string{"API key": key.Secret, "deactivated user": token} {
					p.token = &tok
					if got, raw := m.send(domain.RoleRep, p); got.status != 401 {
						t.Errorf("%s, %s: %d %s, want 401", name, caller, got.status, raw)
					}
				}
			}
		}
	}
}
