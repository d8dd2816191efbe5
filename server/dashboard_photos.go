package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/attachments"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/store"
	"github.com/gofiber/fiber/v2"
)

// Visit photos on the dashboard (docs/api.md, "Dashboard: visit photos"): a
// visit's page with its attachments, and the attachments' bytes under
// /dashboard, where the session cookie (Path=/dashboard) is sent. They are
// the API's download routes behind the session instead of a bearer token:
// the same scope rule, ETag, Range and caching.

// dashVisitPhotos is how many visits with photos the main page lists.
const dashVisitPhotos = 8

func (d *dashboard) registerPhotos(g fiber.Router) {
	g.Get("/visits/:id", d.visitPage)
	dl := downloads{svc: d.s.Attachments}
	read := httpapi.RequireAction(domain.ActReadAttachment)
	g.Get("/attachments/:id/thumbnail", d.sessionCaller, read, dl.content(attachments.Thumbnail))
	g.Get("/attachments/:id/content", d.sessionCaller, read, dl.content(attachments.Original))
}

// sessionCaller lets a request with a dashboard session through as its user,
// for handlers shared with the API; without one it answers 401. What the
// user may do there is the route's (RequireAction, as on the API): a
// signed-in user is never told to sign in.
func (d *dashboard) sessionCaller(c *fiber.Ctx) error {
	p, _, ok := d.session(c)
	if !ok {
		return domain.Errorf(domain.CodeUnauthorized, "sign in to the dashboard first")
	}
	httpapi.SetPrincipal(c, p)
	return c.Next()
}

// visitView is everything visit.html shows.
type visitView struct {
	CSRF string
	store.VisitAttachments
	Planned, CheckedIn, CheckedOut string
	Distance, Outcome, Report      string
	Photos, Others                 []attachmentView
}

// attachmentView is one attachment as the page shows it.
type attachmentView struct {
	domain.Attachment
	Captured    string
	CaptionText string
	Stored      bool
	SizeKB      int64
}

func utcMinute(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func (d *dashboard) visitPage(c *fiber.Ctx) error {
	p, csrf, ok := d.session(c)
	if !ok {
		return d.loginForm(c, fiber.StatusOK, "")
	}
	if !dashboardRole(p.Role) {
		return c.Redirect(deskPath, fiber.StatusSeeOther)
	}
	v, err := d.s.Attachments.Visit(c.UserContext(), p.UserID, strings.Clone(c.Params("id")))
	if err != nil {
		return err
	}
	view := visitView{CSRF: csrf, VisitAttachments: v, Planned: utcMinute(&v.Visit.PlannedAt),
		CheckedIn: utcMinute(v.Visit.CheckedInAt), CheckedOut: utcMinute(v.Visit.CheckedOutAt),
		Outcome: deref(v.Visit.Outcome), Report: deref(v.Visit.Report)}
	if m := v.Visit.CheckInDistanceM; m != nil {
		view.Distance = fmt.Sprintf("%.0f m", *m)
	}
	for _, a := range v.Attachments {
		av := attachmentView{Attachment: a, Captured: utcMinute(a.CapturedAt), CaptionText: deref(a.Caption), Stored: a.Status == domain.AttachmentStored,
			SizeKB: (a.Size + 1023) / 1024}
		if a.Kind == domain.KindPhoto && av.Stored {
			view.Photos = append(view.Photos, av)
		} else {
			view.Others = append(view.Others, av)
		}
	}
	return d.render(c, fiber.StatusOK, "visit.html", view)
}
