package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync/attachments"
	"github.com/fieldsync/fieldsync/blob"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/gofiber/fiber/v2"
)

// uploadsPath is where the tus upload collection lives.
const uploadsPath = "/v1/attachments/uploads/"

func newAttachments(ctx context.Context, cfg Config, db *store.DB, eng *engine.Engine, logger *slog.Logger) (*attachments.Service, error) {
	blobs, err := blob.Open(ctx, cfg.BlobURL, cfg.BlobDir, blob.S3Credentials{AccessKey: cfg.BlobAccessKey, SecretKey: cfg.BlobSecretKey})
	if err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	return attachments.New(db, blobs, eng.Scope, attachments.Config{StagingDir: cfg.UploadDir, BasePath: uploadsPath}, logger), nil
}

func (s *Server) registerAttachments(v1 fiber.Router) {
	tus := s.tus
	authn := httpapi.Authenticate(s.Auth)
	up := uploadRoutes{tus: tus}
	upload := httpapi.RequireAction(domain.ActUploadAttachment)
	// The upload lane: tus (creation, core, termination). Bodies stream from
	// the connection to the staging file: no body limit applies but the
	// attachment's own size (tus Upload-Length, checked against the row).
	v1.Post("/attachments/uploads", authn, upload, up.serve(tus.PostFile))
	v1.Add(fiber.MethodHead, "/attachments/uploads/:upload", authn, upload, up.owned, up.serve(tus.HeadFile))
	v1.Patch("/attachments/uploads/:upload", authn, upload, up.owned, up.serve(tus.PatchFile))
	v1.Delete("/attachments/uploads/:upload", authn, upload, up.owned, up.serve(tus.DelFile))
	dl := downloads{svc: s.Attachments}
	read := httpapi.RequireAction(domain.ActReadAttachment)
	v1.Get("/attachments/:id/content", authn, read, dl.content(attachments.Original))
	v1.Get("/attachments/:id/thumbnail", authn, read, dl.content(attachments.Thumbnail))
}

type uploadRoutes struct{ tus *attachments.TusHandler }

// owned lets through the creator of the upload the path names; another
// user's upload is answered exactly like an unknown one (domain.CheckUploadOwner).
func (u uploadRoutes) owned(c *fiber.Ctx) error {
	if err := u.tus.CheckUpload(c.UserContext(), strings.Clone(c.Params("upload")), httpapi.CallerOf(c)); err != nil {
		return err
	}
	return c.Next()
}

func (u uploadRoutes) serve(h http.HandlerFunc) fiber.Handler {
	wrapped := u.tus.Middleware(h)
	return func(c *fiber.Ctx) error {
		p := httpapi.PrincipalOf(c)
		ctx := attachments.WithUploader(c.UserContext(), attachments.Uploader{UserID: p.UserID, DeviceID: p.DeviceID, Role: p.Role})
		path := ""
		if id := c.Params("upload"); id != "" {
			path = "/" + strings.Clone(id)
		}
		return serveHTTP(c, ctx, wrapped, path)
	}
}

type downloads struct{ svc *attachments.Service }

// content sends an attachment's bytes (or thumbnail): strong ETag, Range,
// and a long private cache, since the bytes behind an id never change.
func (d downloads) content(v attachments.Variant) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ct, err := d.svc.Content(c.UserContext(), httpapi.PrincipalOf(c).UserID, strings.Clone(c.Params("id")), v)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, ct.ETag)
		c.Set(fiber.HeaderCacheControl, "private, max-age=31536000, immutable")
		c.Set(fiber.HeaderAcceptRanges, "bytes")
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatch(inm, ct.ETag) {
			return c.SendStatus(fiber.StatusNotModified)
		}
		off, n, partial, ok := parseRange(c.Get(fiber.HeaderRange), ct.Size)
		if !ok {
			c.Set(fiber.HeaderContentRange, "bytes */"+strconv.FormatInt(ct.Size, 10))
			return domain.Errorf(domain.CodeRangeNotSatisfiable, "range not satisfiable")
		}
		if partial {
			if ifr := c.Get(fiber.HeaderIfRange); ifr != "" && ifr != ct.ETag {
				off, n, partial = 0, ct.Size, false
			}
		}
		c.Set(fiber.HeaderContentType, ct.ContentType)
		if partial {
			c.Status(fiber.StatusPartialContent)
			c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, ct.Size))
		}
		if c.Method() == fiber.MethodHead {
			c.Response().Header.SetContentLength(int(n))
			return nil
		}
		r, err := ct.Open(c.UserContext(), off, n)
		if err != nil {
			return err
		}
		return c.SendStream(r, int(n)) // fasthttp closes r once sent
	}
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// parseRange reads a single byte range (RFC 9110 §14.1.2); several ranges or
// a malformed header are ignored (the whole body is sent, as the RFC allows).
// ok is false only for a well-formed range that starts past the end.
func parseRange(h string, size int64) (off, n int64, partial, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, false, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, size, false, true
	}
	if first == "" { // suffix: the last N bytes
		k, err := strconv.ParseInt(last, 10, 64)
		if err != nil || k < 0 {
			return 0, size, false, true
		}
		if k == 0 {
			return 0, 0, false, false
		}
		k = min(k, size)
		return size - k, k, true, true
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return 0, size, false, true
	}
	if a >= size {
		return 0, 0, false, false
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return 0, size, false, true
		}
		b = min(b, size-1)
	}
	return a, b - a + 1, true, true
}
