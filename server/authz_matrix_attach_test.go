package server_test

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// The attachments' byte lane in the matrix (docs/protocol.md §11). Its rows:
// an attachment on each kind of visit, order and note of the matrix (rep1's
// own, rep2's on acc1, rep3's on acc3), their bytes stored; a pending
// attachment of each kind, whose upload its uploader may start; and uploads
// in progress of rep1, rep2 and rep3.

// attachParents are the parents an attachment hangs on: each is a variant of
// the download routes.
var attachParents = []string{domain.TableVisits, domain.TableOrders, domain.TableAccountNotes}

// uploaderOf is who made the rows of kind k (newMatrix).
var uploaderOf = map[rowKind]string{own: "rep1", other: "rep2", out: "rep3"}

// pendingBytes are the bytes of every pending attachment of the matrix;
// they are never uploaded whole, so the rows stay pending.
var pendingBytes = []byte("the bytes of a pending attachment, never uploaded whole")

// attachReadWant: downloads are for whoever sees the parent; coordinators
// receive no attachments (their scope has no visits or notes), so the routes
// are not theirs; directors and ops see every territory, rep3's rows included.
func attachReadWant(r domain.Role, k rowKind, _ string) want {
	switch {
	case r == domain.RoleCoordinator:
		return deny
	case k == own && r != domain.RoleRep:
		return na // only reps make attachments
	case k == out && (r == domain.RoleDirector || r == domain.RoleOps):
		return allow
	case k == out:
		return hidden
	}
	return allow
}

// uploadWant: only reps upload, and only the bytes of their own attachments
// (their own uploads); another rep's, even in the caller's scope, answers
// exactly as an unknown one: nothing the caller could upload to.
func uploadWant(r domain.Role, k rowKind, _ string) want {
	switch {
	case r != domain.RoleRep:
		return deny
	case k == own:
		return allow
	}
	return hidden
}

func attachmentEntries() map[string]matrixEntry {
	download := func(variant string) matrixEntry {
		return matrixEntry{kinds: []rowKind{own, other, out}, variants: attachParents, want: attachReadWant,
			req: func(m *matrix, _ domain.Role, k rowKind, parent string) probe {
				return probe{method: "GET", path: "/v1/attachments/" + m.attach[parent][k] + "/" + variant}
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return probe{method: "GET", path: "/v1/attachments/" + uuid.NewString() + "/" + variant}
			}}
	}
	// An upload in progress: PATCH appends a few bytes (the upload stays
	// unfinished), HEAD asks the offset, DELETE terminates it; each probe
	// names a fresh upload. HEAD (tus offset discovery) is documented with
	// PATCH: a variant of its route.
	call := func(method, path string) probe {
		p := probe{method: strings.ToUpper(method), path: path, hdr: []string{"Tus-Resumable", "1.0.0"}}
		if p.method == "PATCH" {
			p.body = string(pendingBytes[:8])
			p.hdr = append(p.hdr, "Upload-Offset", "0", "Content-Type", "application/offset+octet-stream")
		}
		return p
	}
	inProgress := func(methods ...string) matrixEntry {
		e := matrixEntry{kinds: []rowKind{own, other, out}, want: uploadWant,
			req: func(m *matrix, _ domain.Role, k rowKind, v string) probe {
				return call(cmp.Or(v, methods[0]), m.freshUpload(k))
			},
			unknown: func(_ *matrix, _ domain.Role, v string) probe {
				return call(cmp.Or(v, methods[0]), uploadsPath+strings.ReplaceAll(uuid.NewString(), "-", ""))
			}}
		if len(methods) > 1 {
			e.variants = methods
		}
		return e
	}
	return map[string]matrixEntry{
		"post /v1/attachments/uploads": {kinds: []rowKind{own, other, out}, want: uploadWant,
			req: func(m *matrix, _ domain.Role, k rowKind, _ string) probe {
				return createUploadProbe(m.pending[k], len(pendingBytes))
			},
			unknown: func(*matrix, domain.Role, string) probe {
				return createUploadProbe(uuid.NewString(), len(pendingBytes))
			}},
		"patch /v1/attachments/uploads/{upload}":  inProgress("patch", "head"),
		"delete /v1/attachments/uploads/{upload}": inProgress("delete"),
		"get /v1/attachments/{id}/content":        download("content"),
		"get /v1/attachments/{id}/thumbnail":      download("thumbnail"),
	}
}

const uploadsPath = "/v1/attachments/uploads/"

func createUploadProbe(attachmentID string, size int) probe {
	return probe{method: "POST", path: "/v1/attachments/uploads", hdr: []string{"Tus-Resumable", "1.0.0",
		"Upload-Length", strconv.Itoa(size), "Upload-Metadata", "attachment_id " + base64.StdEncoding.EncodeToString([]byte(attachmentID))}}
}

// doHdr sends a request with the given headers (the tus lane's).
func (m *matrix) doHdr(method, path, token, body string, hdr []string) (int, []byte) {
	m.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, b := apitest.Fiber(m.t, m.srv.App, req)
	if resp.StatusCode == 201 {
		loc := resp.Header.Get("Location")
		return resp.StatusCode, []byte(loc[strings.Index(loc, uploadsPath):])
	}
	return resp.StatusCode, b
}

// freshUpload starts an upload of the pending attachment of kind k as its
// uploader and returns its path.
func (m *matrix) freshUpload(k rowKind) string {
	m.t.Helper()
	p := createUploadProbe(m.pending[k], len(pendingBytes))
	status, b := m.doHdr(p.method, p.path, m.tokens[uploaderOf[k]], "", p.hdr)
	if status != 201 {
		m.t.Fatalf("%s starts an upload of their attachment: %d %s", uploaderOf[k], status, b)
	}
	return string(b)
}

// seedAttachments makes the attachment rows of the matrix: rep1 pushes one
// on their own visit and uploads its bytes through the lane; the others name
// the same bytes, so they are stored at once (store.CreateAttachment).
func (m *matrix) seedAttachments() {
	m.t.Helper()
	img := pngBytes(m.t)
	sum := sha256.Sum256(img)
	sha := hex.EncodeToString(sum[:])
	first := uuid.NewString()
	m.pushOne("rep1", mutation(domain.TableAttachments, "upsert", first, 0, map[string]any{"parent_table": domain.TableVisits,
		"parent_id": m.visit[own], "kind": domain.KindPhoto, "content_type": domain.TypePNG, "size": len(img), "sha256": sha,
		"captured_at": "2026-11-23T09:10:00Z"}), wire.StatusApplied)
	p := createUploadProbe(first, len(img))
	status, path := m.doHdr(p.method, p.path, m.tokens["rep1"], "", p.hdr)
	if status != 201 {
		m.t.Fatalf("create upload: %d %s", status, path)
	}
	if status, b := m.doHdr("PATCH", string(path), m.tokens["rep1"], string(img), []string{"Tus-Resumable", "1.0.0",
		"Upload-Offset", "0", "Content-Type", "application/offset+octet-stream"}); status != 204 {
		m.t.Fatalf("upload: %d %s", status, b)
	}
	m.attach = map[string]map[rowKind]string{}
	m.pending = map[rowKind]string{}
	pendingSum := sha256.Sum256(pendingBytes)
	for _, parent := range attachParents {
		m.attach[parent] = map[rowKind]string{}
		for _, k := range []rowKind{own, other, out} {
			id := map[string]map[rowKind]string{domain.TableVisits: m.visit, domain.TableOrders: m.order, domain.TableAccountNotes: m.note}[parent][k]
			if parent == domain.TableVisits && k == own {
				m.attach[parent][k] = first
			} else {
				m.attach[parent][k] = m.attachmentRow(parent, id, k, sha, int64(len(img)), domain.AttachmentStored)
			}
			if parent == domain.TableVisits {
				m.pending[k] = m.attachmentRow(parent, id, k, hex.EncodeToString(pendingSum[:]), int64(len(pendingBytes)), domain.AttachmentPending)
			}
		}
	}
}

// attachmentRow writes an attachment of kind k's uploader on a parent row
// (as the push would; rep2's rows are on an account rep2 does not see, so
// they are written directly) and checks it has the status wanted.
func (m *matrix) attachmentRow(parent, parentID string, k rowKind, sha string, size int64, status string) string {
	m.t.Helper()
	acc := m.acc1
	if k == out {
		acc = m.acc3
	}
	id := uuid.NewString()
	captured := time.Date(2026, 11, 23, 9, 10, 0, 0, time.UTC)
	m.write(func(tx *store.Tx, _ time.Time) error {
		a, _, err := store.GetAccount(tx, acc, false)
		if err != nil {
			return err
		}
		row, err := store.CreateAttachment(tx, a, "dev-"+uploaderOf[k], domain.Attachment{ID: id, ParentTable: parent, ParentID: parentID,
			Kind: domain.KindPhoto, ContentType: domain.TypePNG, Size: size, SHA256: sha, CapturedAt: &captured,
			UploaderID: m.ids[uploaderOf[k]]})
		if err == nil && row.Status != status {
			m.t.Fatalf("attachment %s is %s, want %s", id, row.Status, status)
		}
		return err
	})
	return id
}
