package attachments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	expslog "golang.org/x/exp/slog"
)

// Uploads use the tus protocol (tus.io, v1.0.0 with the creation and
// termination extensions) through tusd: mobile platforms have maintained tus
// clients (TUSKit for iOS, tus-android-client, tus-js-client), and tusd
// implements the offsets, locking and resumption the lane needs. tusd stages
// each upload in a local file (its filestore), streaming, so memory stays
// flat whatever the file size; once the last byte is in, finish verifies and
// moves the bytes to the blob store.

// Uploader is the authenticated caller of the upload lane; its role is
// what domain.CheckUpload judges beside the user.
type Uploader struct {
	UserID   string
	DeviceID string
	Role     domain.Role
}

type uploaderKey struct{}

// WithUploader returns ctx carrying u, for the tus hooks.
func WithUploader(ctx context.Context, u Uploader) context.Context {
	return context.WithValue(ctx, uploaderKey{}, u)
}

func uploaderOf(ctx context.Context) (Uploader, bool) {
	u, ok := ctx.Value(uploaderKey{}).(Uploader)
	return u, ok && u.UserID != ""
}

// Upload metadata keys kept on a staged upload (tus Upload-Metadata): the
// attachment the client names, and the user who created the upload.
const (
	MetaAttachmentID = "attachment_id"
	metaUserID       = "user_id"
)

type interruptKey struct{}

// WithInterrupt returns ctx carrying interrupt, which makes the request's
// pending body read fail at once (the server sets the connection's read
// deadline to now). When another request for the same upload asks for the
// upload's lock (a phone resuming after a cut connection while the server
// still reads the old one), the lock's holder is stopped this way rather
// than by tusd's own release request: tusd v2.9.1 answers that by cancelling
// the holder's context, and a goroutine of its own then reads the holder's
// body field while the holder may be writing it (a data race the race
// detector caught in TestAttachments_OfflineVisitPhotosOverCutConnection).
// A failed read ends the holder's PATCH the same way, through tusd's own
// error path, and its lock with it.
func WithInterrupt(ctx context.Context, interrupt func()) context.Context {
	return context.WithValue(ctx, interruptKey{}, interrupt)
}

// interruptingLocker is tusd's in-memory locker whose holders are asked to
// release their lock through WithInterrupt's function when the request
// carries one.
type interruptingLocker struct{ tusd.Locker }

func (l interruptingLocker) NewLock(id string) (tusd.Lock, error) {
	lk, err := l.Locker.NewLock(id)
	if err != nil {
		return nil, err
	}
	return interruptingLock{lk}, nil
}

type interruptingLock struct{ inner tusd.Lock }

func (l interruptingLock) Lock(ctx context.Context, requestRelease func()) error {
	if interrupt, ok := ctx.Value(interruptKey{}).(func()); ok {
		requestRelease = interrupt
	}
	return l.inner.Lock(ctx, requestRelease)
}

func (l interruptingLock) Unlock() error { return l.inner.Unlock() }

// TusHandler is the tus server of the lane.
type TusHandler struct {
	*tusd.UnroutedHandler
	store filestore.FileStore
}

// Tus builds the tus handler. Routes must pass each request through
// WithUploader and check CheckUpload for requests naming an upload.
func (s *Service) Tus() (*TusHandler, error) {
	fs := filestore.New(s.cfg.StagingDir)
	composer := tusd.NewStoreComposer()
	fs.UseIn(composer)
	composer.UseLocker(interruptingLocker{memorylocker.New()})
	h, err := tusd.NewUnroutedHandler(tusd.Config{
		StoreComposer:             composer,
		BasePath:                  s.cfg.BasePath,
		MaxSize:                   domain.MaxAttachmentSize(),
		DisableDownload:           true, // bytes go out through the download routes, with scope checks
		DisableConcatenation:      true,
		Cors:                      &tusd.CorsConfig{Disable: true},
		Logger:                    expslog.New(discard{}),
		PreUploadCreateCallback:   s.preCreate,
		PreFinishResponseCallback: s.preFinish,
	})
	if err != nil {
		return nil, fmt.Errorf("attachments: tus handler: %w", err)
	}
	return &TusHandler{UnroutedHandler: h, store: fs}, nil
}

// CheckUpload decides whether c may go on with upload id: the rule is
// domain.CheckUploadOwner's (its creator only; anyone else's upload answers
// as an unknown one).
func (t *TusHandler) CheckUpload(ctx context.Context, id string, c domain.Caller) error {
	creator, found := t.creator(ctx, id)
	if err := domain.CheckUploadOwner(c, creator, found); err != nil {
		return err
	}
	return nil
}

// creator returns the user who created upload id; found is false when no
// upload has the id.
func (t *TusHandler) creator(ctx context.Context, id string) (string, bool) {
	up, err := t.store.GetUpload(ctx, id)
	if err != nil {
		return "", false
	}
	info, err := up.GetInfo(ctx)
	if err != nil {
		return "", false
	}
	return info.MetaData[metaUserID], true
}

// preCreate admits an upload only for a pending attachment row of the caller
// whose size is the declared Upload-Length; it keeps only the metadata the
// lane needs (a file name the app sent is not stored).
func (s *Service) preCreate(hook tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	var none tusd.FileInfoChanges
	u, ok := uploaderOf(hook.Context)
	if !ok {
		return tusd.HTTPResponse{}, none, tusError(http.StatusUnauthorized, domain.CodeUnauthorized, "missing bearer token", nil)
	}
	id := hook.Upload.MetaData[MetaAttachmentID]
	if !domain.IsUUID(id) {
		return tusd.HTTPResponse{}, none, tusError(http.StatusBadRequest, domain.CodeBadRequest,
			"Upload-Metadata must name the attachment_id (a UUID)", nil)
	}
	target, err := s.db.GetUploadTarget(hook.Context, id)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return tusd.HTTPResponse{}, none, asTusError(domain.UploadTargetNotFound())
	}
	if err != nil {
		return tusd.HTTPResponse{}, none, err
	}
	// The rule (domain.CheckUpload): the uploader's own attachment; anyone
	// else's is answered exactly as an unknown one.
	if derr := domain.CheckUpload(domain.Caller{UserID: u.UserID, Role: u.Role, DeviceID: u.DeviceID}, target.Attachment); derr != nil {
		return tusd.HTTPResponse{}, none, asTusError(derr)
	}
	a := target.Attachment
	if a.Status == domain.AttachmentStored {
		return tusd.HTTPResponse{}, none, tusError(http.StatusConflict, CodeAttachmentStored, "the attachment's bytes are already stored", nil)
	}
	if hook.Upload.SizeIsDeferred || hook.Upload.Size != a.Size {
		return tusd.HTTPResponse{}, none, tusError(http.StatusUnprocessableEntity, domain.CodeValidation,
			"Upload-Length must equal the attachment's size",
			[]domain.FieldError{{Field: "Upload-Length", Message: "must be " + strconv.FormatInt(a.Size, 10)}})
	}
	return tusd.HTTPResponse{}, tusd.FileInfoChanges{MetaData: tusd.MetaData{MetaAttachmentID: id, metaUserID: u.UserID}}, nil
}

// Error codes of the upload lane beyond the contract's.
const (
	// CodeChecksumMismatch: the finished upload's sha256 is not the row's.
	CodeChecksumMismatch domain.Code = "checksum_mismatch"
	// CodeAttachmentStored: the attachment's bytes are already stored.
	CodeAttachmentStored domain.Code = "attachment_stored"
)

// tusError is an error tusd answers with the contract's error body.
func tusError(status int, code domain.Code, msg string, fields []domain.FieldError) tusd.Error {
	detail := map[string]any{"code": code, "message": msg}
	if len(fields) > 0 {
		detail["fields"] = fields
	}
	b, _ := json.Marshal(map[string]any{"error": detail}) // plain maps always marshal
	return tusd.Error{ErrorCode: string(code), Message: msg, HTTPResponse: tusd.HTTPResponse{
		StatusCode: status, Body: string(b), Header: tusd.HTTPHeader{"Content-Type": "application/json"}}}
}

// asTusError is a refusal of the authorization rules as tusd answers it.
func asTusError(err *domain.Error) tusd.Error {
	status := http.StatusNotFound
	if err.Code == domain.CodeForbidden {
		status = http.StatusForbidden
	}
	return tusError(status, err.Code, err.Message, err.Fields)
}

// IsTusError reports whether err carries its own response.
func IsTusError(err error) bool {
	var e tusd.Error
	return errors.As(err, &e)
}

// discard is a slog handler that drops tusd's own logs: the server logs
// each request itself.
type discard struct{}

func (discard) Enabled(context.Context, expslog.Level) bool  { return false }
func (discard) Handle(context.Context, expslog.Record) error { return nil }
func (d discard) WithAttrs([]expslog.Attr) expslog.Handler   { return d }
func (d discard) WithGroup(string) expslog.Handler           { return d }
