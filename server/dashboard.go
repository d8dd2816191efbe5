package server

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"math"
	"mime"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/gofiber/fiber/v2"
)

// The dashboard (docs/protocol.md §6): server-rendered HTML for managers and the head
// of sales. A session cookie (HttpOnly, SameSite=Strict, Secure over TLS) holds a
// session token; every form that changes state carries a CSRF token: the
// session's secret once signed in, a double-submit cookie on the login form.
// Assets are embedded; the page loads nothing from elsewhere (see the CSP).

//go:embed dashboard
var dashboardFS embed.FS

const (
	sessionCookie   = "fs_session"
	loginCSRFCookie = "fs_login_csrf"
	dashboardPath   = "/dashboard"
	dashboardCSP    = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

type dashboard struct {
	s       *Server
	readers *reportReaders
	tmpl    *template.Template
}

// reports is the report service of this request: on the read replica while
// one is usable (replica.go).
func (d *dashboard) reports() *reports.Service { return d.readers.get() }

// registerDashboard adds /dashboard to the app.
func (s *Server) registerDashboard(app *fiber.App) {
	d := &dashboard{s: s, readers: s.reportReaders(),
		tmpl: template.Must(template.New("").Funcs(viewFuncs).ParseFS(dashboardFS, "dashboard/*.html"))}
	g := app.Group(dashboardPath, securityHeaders)
	g.Get("/", d.page)
	g.Post("/login", httpapi.BodyLimit(formBodyLimit), readForm, d.login)
	g.Post("/logout", httpapi.BodyLimit(formBodyLimit), readForm, d.logout)
	g.Get("/assets/:name", serveAsset)
	d.registerDesk(g)
	d.registerPhotos(g)
}

// formBodyLimit caps the dashboard's forms (email, password, CSRF token); the
// login form is open to anyone.
const formBodyLimit = 4 << 10

// readForm reads the form body within its limit before FormValue parses it.
func readForm(c *fiber.Ctx) error {
	if _, err := httpapi.ReadBody(c); err != nil {
		return err
	}
	return c.Next()
}

func securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", dashboardCSP)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Frame-Options", "DENY")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

func serveAsset(c *fiber.Ctx) error {
	name := path.Base(c.Params("name"))
	b, err := dashboardFS.ReadFile("dashboard/assets/" + name)
	if err != nil {
		return domain.Errorf(domain.CodeNotFound, "not found")
	}
	c.Set(fiber.HeaderContentType, mime.TypeByExtension(path.Ext(name)))
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(b)
}

// dashboardRole: the dashboard shows the coverage report, so it is for the
// roles the role table lets read it.
func dashboardRole(r domain.Role) bool { return domain.Authorize(r, domain.ActReportCoverage) == nil }

// session returns the signed-in principal and its CSRF secret, or ok=false.
func (d *dashboard) session(c *fiber.Ctx) (auth.Principal, string, bool) {
	tok := c.Cookies(sessionCookie)
	if tok == "" {
		return auth.Principal{}, "", false
	}
	p, csrf, err := d.s.Auth.VerifySession(c.UserContext(), strings.Clone(tok))
	if err != nil || !signInRole(p.Role) {
		return auth.Principal{}, "", false
	}
	return p, csrf, true
}

func (d *dashboard) page(c *fiber.Ctx) error {
	p, csrf, ok := d.session(c)
	if !ok {
		return d.loginForm(c, fiber.StatusOK, "")
	}
	if !dashboardRole(p.Role) {
		return c.Redirect(deskPath, fiber.StatusSeeOther) // a coordinator's page is the desk
	}
	params, err := reports.ParseParams(d.s.today(), strings.Clone(c.Query("from")), strings.Clone(c.Query("to")),
		strings.Clone(c.Query("territory_id")))
	if err != nil {
		params, _ = reports.ParseParams(d.s.today(), "", "", "")
	}
	pg := dashPage{RepID: strings.Clone(c.Query("rep_id")), RepCursor: strings.Clone(c.Query("rc")),
		KPICursor: strings.Clone(c.Query("kc")), AccCursor: strings.Clone(c.Query("ac")),
		TerrCursor: strings.Clone(c.Query("tc"))}
	v, err := d.buildView(c, p.Caller, params, pg)
	if err != nil {
		// An unknown territory or a stale cursor shows the top level.
		if code := domain.ErrorCode(err); code != domain.CodeNotFound && code != domain.CodeBadRequest {
			return err
		}
		params.TerritoryID = ""
		if v, err = d.buildView(c, p.Caller, params, dashPage{}); err != nil {
			return err
		}
	}
	v.CSRF = csrf
	return d.render(c, fiber.StatusOK, "page.html", v)
}

func (d *dashboard) render(c *fiber.Ctx, status int, name string, data any) error {
	var b strings.Builder
	if err := d.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).SendString(b.String())
}

type loginView struct {
	CSRF  string
	Error string
	Email string
}

// loginForm renders the form with a fresh double-submit CSRF token.
func (d *dashboard) loginForm(c *fiber.Ctx, status int, msg string) error {
	tok := randomToken()
	d.setCookie(c, loginCSRFCookie, tok, time.Now().Add(time.Hour))
	return d.render(c, status, "login.html", loginView{CSRF: tok, Error: msg, Email: strings.Clone(c.FormValue("email"))})
}

func (d *dashboard) login(c *fiber.Ctx) error {
	if !auth.CSRFEqual(c.FormValue("csrf"), c.Cookies(loginCSRFCookie)) {
		return d.loginForm(c, fiber.StatusForbidden, "Your form expired. Please sign in again.")
	}
	sess, err := d.s.Auth.LoginSession(c.UserContext(), strings.Clone(c.FormValue("email")),
		strings.Clone(c.FormValue("password")), c.IP())
	var rl *auth.RateLimitedError
	switch {
	case errors.As(err, &rl):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Max(1, math.Ceil(rl.RetryAfter().Seconds())))))
		return d.loginForm(c, fiber.StatusTooManyRequests, "Too many failed sign-ins. Try again later.")
	case domain.ErrorCode(err) == domain.CodeUnauthorized:
		return d.loginForm(c, fiber.StatusUnauthorized, "Invalid email or password.")
	case err != nil:
		return err
	}
	if !signInRole(sess.User.Role) {
		if p, _, verr := d.s.Auth.VerifySession(c.UserContext(), sess.Token); verr == nil {
			_ = d.s.Auth.Logout(c.UserContext(), p)
		}
		return d.loginForm(c, fiber.StatusForbidden, "The dashboard is for sales managers, the head of sales and the order desk.")
	}
	d.setCookie(c, sessionCookie, sess.Token, sess.ExpiresAt)
	c.ClearCookie(loginCSRFCookie)
	if !dashboardRole(sess.User.Role) {
		return c.Redirect(deskPath, fiber.StatusSeeOther)
	}
	return c.Redirect(dashboardPath, fiber.StatusSeeOther)
}

func (d *dashboard) logout(c *fiber.Ctx) error {
	p, csrf, ok := d.session(c)
	if !ok || !auth.CSRFEqual(c.FormValue("csrf"), csrf) {
		return domain.Errorf(domain.CodeForbidden, "invalid or missing CSRF token")
	}
	if err := d.s.Auth.Logout(c.UserContext(), p); err != nil {
		return err
	}
	d.setCookie(c, sessionCookie, "", time.Unix(0, 0))
	return c.Redirect(dashboardPath, fiber.StatusSeeOther)
}

func (d *dashboard) setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{Name: name, Value: value, Path: dashboardPath, Expires: expires,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: c.Protocol() == "https"})
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
