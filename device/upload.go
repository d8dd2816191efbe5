package device

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// UploadProgress reports one attachment's upload. Sent counts the bytes the
// server had when the upload (re)started plus those written to the connection
// since; Done is set once, when the server confirmed the bytes (the file is
// then gone from the device).
type UploadProgress struct {
	AttachmentID string
	Sent, Size   int64
	Done         bool
}

// UploadReport says what one UploadAttachments did.
type UploadReport struct {
	Uploaded int // bytes sent and confirmed by the server
	Stored   int // the server had the bytes already (same sha256, or an answer that was lost): nothing sent
	Resumed  int // uploads that went on from the server's offset instead of from zero
	Waiting  int // rows the server has not acknowledged yet (Sync first); tried again next time
	Failed   int // given up (see Uploads): the row was rejected, or the file no longer matches its sha256
}

// Server error codes of the upload lane (docs/protocol.md §11).
const (
	codeChecksumMismatch domain.Code = "checksum_mismatch"
	codeAttachmentStored domain.Code = "attachment_stored"
)

// UploadAttachments uploads the queued attachment bytes whose rows the server
// has acknowledged (so their parents were pushed before them), oldest first,
// over the tus upload lane. It stops at the first network error or 5xx with
// the queue intact (IsRetryable); calling it again resumes each started upload
// from the offset the server reports (tus HEAD), also after the app was
// restarted. progress, if not nil, is called as bytes go out; it must return
// quickly. UploadAttachments runs beside Sync, not under it: one call at a
// time per Client.
func (c *Client) UploadAttachments(ctx context.Context, progress func(UploadProgress)) (UploadReport, error) {
	c.uploadMu.Lock()
	defer c.uploadMu.Unlock()
	var rep UploadReport
	if c.currentToken() == "" {
		return rep, errNotLoggedIn
	}
	if progress == nil {
		progress = func(UploadProgress) {}
	}
	queue, err := c.uploadQueue(ctx)
	if err != nil {
		return rep, err
	}
	for _, up := range queue {
		if up.State != uploadQueued {
			continue
		}
		if err := c.uploadOne(ctx, up, &rep, progress); err != nil {
			return rep, fmt.Errorf("upload attachment %s: %w", up.AttachmentID, err)
		}
	}
	return rep, nil
}

// uploadOne takes one queued attachment as far as it can.
func (c *Client) uploadOne(ctx context.Context, up uploadRow, rep *UploadReport, progress func(UploadProgress)) error {
	ready, err := c.uploadReady(ctx, up)
	switch {
	case err != nil:
		return err
	case ready == rowStored:
		rep.Stored++
		return c.confirm(ctx, up, progress)
	case ready == rowFailed:
		rep.Failed++
		return nil
	case ready == rowWaiting:
		rep.Waiting++
		return nil
	}
	off := int64(-1) // unknown
	if up.URL != nil {
		o, err := c.tusOffset(ctx, *up.URL)
		switch {
		case statusOf(err) == http.StatusNotFound:
			// Expired, or discarded after a checksum mismatch: start again.
			if err := c.setUpload(ctx, up.AttachmentID, map[string]any{"url": nil}); err != nil {
				return err
			}
			up.URL = nil
		case err != nil:
			return err
		case o < up.Size:
			off = o
			if o > 0 {
				rep.Resumed++
			}
		}
		// o == Size: every byte is in, but the answer to the last PATCH was
		// lost. The creation below tells whether they were stored.
	}
	if off < 0 {
		if err := c.verifyFile(ctx, up); err != nil {
			if domain.ErrorCode(err) == codeChecksumMismatch {
				rep.Failed++
				return nil
			}
			return err
		}
		loc, err := c.tusCreate(ctx, up)
		switch {
		case err == nil:
		case domain.ErrorCode(err) == codeAttachmentStored:
			rep.Stored++
			return c.confirm(ctx, up, progress)
		case statusOf(err) == http.StatusNotFound: // the row is not (or no longer) the caller's on the server
			rep.Waiting++
			return nil
		case statusOf(err) == http.StatusUnprocessableEntity, statusOf(err) == http.StatusRequestEntityTooLarge:
			rep.Failed++
			return c.failUpload(ctx, up.AttachmentID, asDomain(err))
		default:
			return err
		}
		// Saved before the first byte goes, so a crash resumes this upload.
		if err := c.setUpload(ctx, up.AttachmentID, map[string]any{"url": loc}); err != nil {
			return err
		}
		up.URL, off = &loc, 0
	}
	f, err := os.Open(c.filePath(up.AttachmentID))
	if err != nil {
		return fmt.Errorf("open queued file: %w", err)
	}
	defer f.Close()
	progress(UploadProgress{AttachmentID: up.AttachmentID, Sent: off, Size: up.Size})
	conflicts := 0
	for off < up.Size {
		n := min(c.opt.UploadChunk, up.Size-off)
		body := &countingReader{r: io.NewSectionReader(f, off, n), onRead: func(sent int64) {
			progress(UploadProgress{AttachmentID: up.AttachmentID, Sent: off + sent, Size: up.Size})
		}}
		next, err := c.tusPatch(ctx, *up.URL, off, n, body)
		switch {
		case err == nil:
			off = next
			continue
		case statusOf(err) == http.StatusConflict && conflicts < maxOffsetRetries:
			// The server's offset is not ours, or the upload is busy (a cut
			// request still finishing): ask it, a bounded number of times.
			conflicts++
			if off, err = c.tusOffset(ctx, *up.URL); err != nil {
				return err
			}
			continue
		case domain.ErrorCode(err) == codeChecksumMismatch, statusOf(err) == http.StatusNotFound:
			// The server discarded the upload (the bytes arrived damaged, or
			// it expired): the next run starts again from zero.
			if uerr := c.setUpload(ctx, up.AttachmentID, map[string]any{"url": nil}); uerr != nil {
				return uerr
			}
		}
		return err
	}
	rep.Uploaded++
	return c.confirm(ctx, up, progress)
}

// maxOffsetRetries bounds the 409s one upload answers by asking HEAD again;
// beyond it UploadAttachments returns the 409, and its next call starts with
// HEAD.
const maxOffsetRetries = 3

// Readiness of a queued attachment's row.
const (
	rowReady   = iota // acknowledged by the server, bytes pending: upload
	rowStored         // the server copy says stored: nothing to send
	rowWaiting        // not acknowledged yet
	rowFailed         // the server refused the row: marked failed
)

// uploadReady looks at the attachment's row: its bytes may go up only once
// the server has acknowledged the row (the row's mutation comes after its
// parent's in the outbox, so the parent is on the server too).
func (c *Client) uploadReady(ctx context.Context, up uploadRow) (int, error) {
	var ready int
	err := c.tx(ctx, func(tx *gorm.DB) error {
		m, err := loadMirror(tx, domain.TableAttachments, up.AttachmentID)
		if err != nil {
			return err
		}
		if m != nil && m.ServerRow != nil {
			var row struct{ Status string }
			if err := json.Unmarshal([]byte(*m.ServerRow), &row); err != nil {
				return fmt.Errorf("stored attachment row: %w", err)
			}
			ready = rowReady
			if row.Status == domain.AttachmentStored {
				ready = rowStored
			}
			return nil
		}
		var failed []outboxRow
		err = tx.Where("tbl = ? AND row_id = ? AND state = ? AND base_version = 0", domain.TableAttachments, up.AttachmentID, stateFailed).
			Limit(1).Find(&failed).Error
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		ready = rowWaiting
		if len(failed) > 0 && failed[0].Error != nil {
			ready = rowFailed
			return tx.Model(&uploadRow{}).Where("attachment_id = ?", up.AttachmentID).
				Updates(map[string]any{"state": uploadFailed, "error": *failed[0].Error}).Error
		}
		return nil
	})
	return ready, err
}

// verifyFile refuses to send a file that no longer hashes to the row's
// sha256 (damaged storage): the server would refuse it every time.
func (c *Client) verifyFile(ctx context.Context, up uploadRow) error {
	f, err := os.Open(c.filePath(up.AttachmentID))
	if err != nil {
		e := domain.Errorf(codeChecksumMismatch, "the queued file is gone: %v", err)
		if ferr := c.failUpload(ctx, up.AttachmentID, e); ferr != nil {
			return ferr
		}
		return e
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read queued file: %w", err)
	}
	if hex.EncodeToString(h.Sum(nil)) != up.SHA256 {
		e := domain.Errorf(codeChecksumMismatch, "the queued file no longer matches its sha256")
		if ferr := c.failUpload(ctx, up.AttachmentID, e); ferr != nil {
			return ferr
		}
		return e
	}
	return nil
}

// confirm drops an upload the server has confirmed, file included.
func (c *Client) confirm(ctx context.Context, up uploadRow, progress func(UploadProgress)) error {
	if err := c.dropUpload(ctx, up.AttachmentID); err != nil {
		return err
	}
	progress(UploadProgress{AttachmentID: up.AttachmentID, Sent: up.Size, Size: up.Size, Done: true})
	return nil
}

// The tus requests (tus 1.0.0: creation, HEAD, PATCH).

const tusVersion = "1.0.0"

// tusCreate creates the upload and returns its URL.
func (c *Client) tusCreate(ctx context.Context, up uploadRow) (string, error) {
	hdr := http.Header{}
	hdr.Set("Upload-Length", strconv.FormatInt(up.Size, 10))
	hdr.Set("Upload-Metadata", "attachment_id "+base64.StdEncoding.EncodeToString([]byte(up.AttachmentID)))
	resp, err := c.tus(ctx, http.MethodPost, c.baseURL+"/v1/attachments/uploads", hdr, nil, 0)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("create upload: server answered %d", resp.StatusCode)
	}
	return c.uploadURL(resp.Header.Get("Location"))
}

// uploadURL resolves a tus Location against the server's URL, keeping only
// its path: the bearer token is only ever sent to Options.ServerURL, whatever
// host a proxy in front of the server made tusd write into Location.
func (c *Client) uploadURL(loc string) (string, error) {
	base, err := url.Parse(c.baseURL)
	if err != nil {
		return "", fmt.Errorf("server URL: %w", err)
	}
	u, err := base.Parse(loc)
	if err != nil || loc == "" {
		return "", fmt.Errorf("create upload: bad Location %q", loc)
	}
	return base.ResolveReference(&url.URL{Path: u.Path}).String(), nil
}

// tusOffset asks how many bytes of the upload the server has.
func (c *Client) tusOffset(ctx context.Context, u string) (int64, error) {
	resp, err := c.tus(ctx, http.MethodHead, u, http.Header{}, nil, 0)
	if err != nil {
		return 0, err
	}
	return uploadOffset(resp)
}

// tusPatch sends n bytes from off and returns the server's new offset.
func (c *Client) tusPatch(ctx context.Context, u string, off, n int64, body io.Reader) (int64, error) {
	hdr := http.Header{}
	hdr.Set("Upload-Offset", strconv.FormatInt(off, 10))
	hdr.Set("Content-Type", "application/offset+octet-stream")
	resp, err := c.tus(ctx, http.MethodPatch, u, hdr, body, n)
	if err != nil {
		return 0, err
	}
	return uploadOffset(resp)
}

func uploadOffset(resp *http.Response) (int64, error) {
	o, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || o < 0 {
		return 0, fmt.Errorf("%s: bad Upload-Offset %q", resp.Request.Method, resp.Header.Get("Upload-Offset"))
	}
	return o, nil
}

// tus sends one request of the upload lane; a non-2xx answer is a
// *ServerError, no answer a *NetworkError. The body of the answer is
// drained and closed.
func (c *Client) tus(ctx context.Context, method, u string, hdr http.Header, body io.Reader, n int64) (*http.Response, error) {
	token := c.currentToken()
	if token == "" {
		return nil, errNotLoggedIn
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", method, err)
	}
	req.Header = hdr
	req.Header.Set("Tus-Resumable", tusVersion)
	req.Header.Set("Authorization", "Bearer "+token)
	req.ContentLength = n
	if body == nil {
		req.Body = http.NoBody
	}
	op := method + " " + req.URL.Path
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &NetworkError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, serverError(resp)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return nil, &NetworkError{Op: op, Err: err}
	}
	return resp, nil
}

// countingReader reports the bytes read through it.
type countingReader struct {
	r      io.Reader
	n      int64
	onRead func(int64)
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.n += int64(n)
		r.onRead(r.n)
	}
	return n, err
}

// statusOf is the HTTP status of a *ServerError, 0 for any other error.
func statusOf(err error) int {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}

// asDomain is the *domain.Error inside err.
func asDomain(err error) *domain.Error {
	var e *domain.Error
	if errors.As(err, &e) {
		return e
	}
	return &domain.Error{Code: domain.CodeInternal, Message: err.Error()}
}

// OpenAttachment downloads an attachment's bytes (thumbnail: the server's
// JPEG preview of an image, within 320×320 px) for whoever sees its parent.
// Nothing is cached here: the answers carry an ETag and may be cached by the
// app for good, since an attachment's bytes never change. A pending
// attachment, one out of scope and an unknown id are all not_found.
func (c *Client) OpenAttachment(ctx context.Context, id string, thumbnail bool) (io.ReadCloser, error) {
	if !domain.IsUUID(id) {
		return nil, domain.Errorf(domain.CodeNotFound, "no attachment %s", id)
	}
	token := c.currentToken()
	if token == "" {
		return nil, errNotLoggedIn
	}
	variant := "content"
	if thumbnail {
		variant = "thumbnail"
	}
	path := "/v1/attachments/" + id + "/" + variant
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+path, nil)
	if err != nil {
		return nil, fmt.Errorf("build GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &NetworkError{Op: "GET " + path, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, serverError(resp)
	}
	return resp.Body, nil
}
