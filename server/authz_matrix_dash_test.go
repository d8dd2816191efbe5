package server_test

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/google/uuid"
)

// The dashboard's routes that name a row, in the matrix: the order desk page
// and its forms, a visit's page and its images. Each role is a browser signed
// in through the login form, its forms carrying the session's CSRF token. A
// rep's sign-in is refused (the pages are for the office), so a rep's browser
// has no session: a page answers the login form, a form post 403 (no session,
// no valid CSRF token), an image 401. Pages answer HTML: what the matrix
// compares of them is the status and the words they say (the error, the
// results of a bulk action, whether the order or visit is shown).

// officeWide: the roles that see every territory (rep3's rows are in scope).
func officeWide(r domain.Role) bool { return r == domain.RoleDirector || r == domain.RoleOps }

// deskRead: the desk is open to coordinators, managers, directors and ops
// (managers and above read it).
func deskRead(r domain.Role, k rowKind, _ string) want {
	switch {
	case r == domain.RoleRep:
		return signInForm
	case k == out && !officeWide(r):
		return hidden
	}
	return allow
}

// deskAct: a desk form that only roles may post; others are refused whatever
// the row (a rep, without a session, by the CSRF check).
func deskAct(roles ...domain.Role) func(domain.Role, rowKind, string) want {
	return func(r domain.Role, k rowKind, _ string) want {
		switch {
		case !contains(roles, r):
			return deny
		case k == out && !officeWide(r):
			return hidden
		}
		return allow
	}
}

// visitPageWant: a visit's page is the dashboard's (managers, directors);
// coordinators and ops are sent to their page, the desk.
func visitPageWant(r domain.Role, k rowKind, _ string) want {
	switch {
	case r == domain.RoleRep:
		return signInForm
	case r == domain.RoleCoordinator || r == domain.RoleOps:
		return away
	case k == out && !officeWide(r):
		return hidden
	}
	return allow
}

// dashImageWant: the images are the API's downloads behind the session:
// the same rule (attachReadWant), and 401 without a session.
func dashImageWant(r domain.Role, k rowKind, v string) want {
	if r == domain.RoleRep {
		return unauthenticated
	}
	return attachReadWant(r, k, v)
}

func dashboardEntries() map[string]matrixEntry {
	form := func(method, path string, f url.Values) probe {
		return probe{method: method, path: path, form: f, session: true}
	}
	page := func(path string) probe { return probe{method: "GET", path: path, session: true} }
	orderID := func(m *matrix, k rowKind) string {
		if k == out {
			return m.outOrder
		}
		return m.submittedOrder("rep1", m.acc1).ID
	}
	image := func(variant string) matrixEntry {
		return matrixEntry{kinds: []rowKind{other, out}, variants: attachParents, want: dashImageWant,
			req: func(m *matrix, _ domain.Role, k rowKind, parent string) probe {
				return page("/dashboard/attachments/" + m.attach[parent][k] + "/" + variant)
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return page("/dashboard/attachments/" + uuid.NewString() + "/" + variant)
			}}
	}
	transition := url.Values{"to": {"confirmed"}, "expected_version": {"2"}}
	resolve := url.Values{"resolution": {"keep_server"}}
	return map[string]matrixEntry{
		// An order on the desk (?order=): shown, or "does not exist or is not
		// on your desk" for an unknown one, on the page (200) either way.
		"get /dashboard/desk": {kinds: []rowKind{other, out}, want: deskRead, hiddenStatus: 200,
			shows: func(p string) bool { return strings.Contains(p, "order-detail") },
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				return page("/dashboard/desk?status=all&order=" + orderID(m, k))
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return page("/dashboard/desk?status=all&order=" + uuid.NewString())
			}},
		"post /dashboard/desk/orders/{id}/transition": {kinds: []rowKind{other, out}, want: deskAct(domain.RoleCoordinator),
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				return form("POST", "/dashboard/desk/orders/"+orderID(m, k)+"/transition", transition)
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return form("POST", "/dashboard/desk/orders/"+uuid.NewString()+"/transition", transition)
			}},
		// Confirm selected: the page lists each order's outcome (200); an
		// order outside the scope is listed as an unknown one.
		"post /dashboard/desk/confirm": {kinds: []rowKind{other, out}, want: deskAct(domain.RoleCoordinator), hiddenStatus: 200,
			shows: func(p string) bool { return strings.Contains(p, "1 of 1 orders confirmed.") },
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				return form("POST", "/dashboard/desk/confirm", url.Values{"order": {orderID(m, k) + ":2"}})
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return form("POST", "/dashboard/desk/confirm", url.Values{"order": {uuid.NewString() + ":2"}})
			}},
		"post /dashboard/desk/conflicts/{id}/resolve": {kinds: []rowKind{other, out},
			want: deskAct(domain.RoleCoordinator, domain.RoleManager),
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				id := m.outConflict
				if k != out {
					_, id = m.confirmedConflict("rep1", m.acc1)
				}
				return form("POST", "/dashboard/desk/conflicts/"+id+"/resolve", resolve)
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return form("POST", "/dashboard/desk/conflicts/"+uuid.NewString()+"/resolve", resolve)
			}},
		"get /dashboard/visits/{id}": {kinds: []rowKind{other, out}, want: visitPageWant,
			shows: func(p string) bool { return strings.Contains(p, "visit-photo") },
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				return page("/dashboard/visits/" + m.visit[k])
			},
			unknown: func(*matrix, domain.Role, string) probe { return page("/dashboard/visits/" + uuid.NewString()) }},
		"get /dashboard/attachments/{id}/thumbnail": image("thumbnail"),
		"get /dashboard/attachments/{id}/content":   image("content"),
	}
}

// signInAll signs each role's browser in through the dashboard's login form.
func (m *matrix) signInAll() {
	m.t.Helper()
	m.browsers = map[domain.Role]*deskClient{}
	for _, r := range matrixRoles {
		b, resp := m.deskSignIn(m.t, r.who)
		if (resp.StatusCode == 303) != (r.role != domain.RoleRep) {
			m.t.Fatalf("%s signs in to the dashboard: %d", r.who, resp.StatusCode)
		}
		m.browsers[r.role] = b
	}
}

// sendSession sends p from the role's browser, its form with the session's
// CSRF token.
func (m *matrix) sendSession(r domain.Role, p probe) (answer, string) {
	m.t.Helper()
	b := m.browsers[r]
	if p.browser != nil {
		b = p.browser
	}
	var f url.Values
	if p.form != nil {
		f = url.Values{}
		for k, v := range p.form {
			f[k] = v
		}
		f.Set("csrf", b.csrf)
	}
	resp, body := b.send(m.t, p.method, p.path, f)
	a := answer{status: resp.StatusCode}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		// A page is compared, and reported, by its words.
		a.err.Message = pageWords(body)
		return a, "page: " + a.err.Message
	}
	a.readError([]byte(body))
	return a, body
}

var (
	pageSays = regexp.MustCompile(`(?s)data-testid="(desk-error|bulk-results|login-error|desk-notice)"[^>]*>(.*?)</(p|ul)>`)
	pageHas  = regexp.MustCompile(`data-testid="(order-detail|login-form|visit-photo)"`)
	// A bulk result names an order by the first characters of its id.
	shortID = regexp.MustCompile(`Order [0-9a-f]{8}\b`)
)

// pageWords is what a page says that tells rows apart: its messages (ids
// replaced) and which of the order, the visit or the login form it shows.
func pageWords(page string) string {
	var out []string
	for _, m := range pageSays.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1]+": "+shortID.ReplaceAllString(m[2], "Order <id>"))
	}
	for _, m := range pageHas.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, "; ")
}
