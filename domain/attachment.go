package domain

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Attachments are photos, signatures and documents captured on a device and
// hung on a visit, an order or an account note. The row is synced like any
// other (it carries its parent's account, so it has its parent's scope); the
// bytes travel in their own upload lane and are fetched on demand.

// TableAttachments is the synced table of attachment metadata rows.
const TableAttachments = "attachments"

// CodeRangeNotSatisfiable: a download's Range starts past the end (416).
const CodeRangeNotSatisfiable Code = "range_not_satisfiable"

// Attachment kinds and statuses.
const (
	KindPhoto     = "photo"
	KindSignature = "signature"
	KindDocument  = "document"

	// AttachmentPending: the row exists, its bytes have not arrived.
	AttachmentPending = "pending"
	// AttachmentStored: the bytes arrived, matched sha256 and are stored.
	AttachmentStored = "stored"
)

// Attachment is the synced metadata row of one attachment. account_id,
// uploader_id and status are the server's.
type Attachment struct {
	ID          string     `json:"id" validate:"required,uuid"`
	ParentTable string     `json:"parent_table" validate:"required,oneof=visits orders account_notes"`
	ParentID    string     `json:"parent_id" validate:"required,uuid"`
	AccountID   string     `json:"account_id"`
	Kind        string     `json:"kind" validate:"required,oneof=photo signature document"`
	ContentType string     `json:"content_type" validate:"required,max=100"`
	Size        int64      `json:"size" validate:"gte=1"`
	SHA256      string     `json:"sha256" validate:"required,len=64,hexadecimal,lowercase"`
	CapturedAt  *time.Time `json:"captured_at" validate:"required"`
	CapturedLat *float64   `json:"captured_lat" validate:"omitempty,gte=-90,lte=90"`
	CapturedLng *float64   `json:"captured_lng" validate:"omitempty,gte=-180,lte=180"`
	Caption     *string    `json:"caption" validate:"omitempty,max=1000"`
	UploaderID  string     `json:"uploader_id"`
	Status      string     `json:"status"`
	Meta
}

// KindLimits bounds what one kind of attachment may be: the largest file, how
// many of the kind one parent may hold, and the content types its bytes may
// sniff as.
type KindLimits struct {
	MaxSize      int64
	MaxPerParent int
	Types        []string
}

// Content types the upload lane recognises by sniffing.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeWebP = "image/webp"
	TypePDF  = "application/pdf"
)

const mib = 1 << 20

// AttachmentLimits are the per-kind limits (docs/api.md, "Attachments"). A
// photo from a phone camera is 2-8 MB as JPEG; a signature is a small PNG; a
// document is a scanned delivery note (PDF or a photo of it).
var AttachmentLimits = map[string]KindLimits{
	KindPhoto:     {MaxSize: 25 * mib, MaxPerParent: 20, Types: []string{TypeJPEG, TypePNG, TypeWebP}},
	KindSignature: {MaxSize: 2 * mib, MaxPerParent: 4, Types: []string{TypePNG, TypeJPEG, TypeWebP}},
	KindDocument:  {MaxSize: 25 * mib, MaxPerParent: 10, Types: []string{TypePDF, TypeJPEG, TypePNG, TypeWebP}},
}

// MaxAttachmentSize is the largest file of any kind: the upload lane refuses
// anything larger before reading it.
func MaxAttachmentSize() int64 {
	var n int64
	for _, l := range AttachmentLimits {
		n = max(n, l.MaxSize)
	}
	return n
}

// AttachmentParents are the tables an attachment may hang on.
var AttachmentParents = []string{TableVisits, TableOrders, TableAccountNotes}

// ValidateAttachment checks an attachment as it would be stored, including
// its kind's size limit and content types.
func ValidateAttachment(a Attachment) *Error {
	return validateRow(a, func(fe *fieldErrors) {
		fe.encodable("captured_at", a.CapturedAt)
		fe.pair("captured_lat", a.CapturedLat, "captured_lng", a.CapturedLng)
		lim, ok := AttachmentLimits[a.Kind]
		if !ok {
			return // the kind's own error is reported
		}
		if a.Size > lim.MaxSize {
			fe.add("size", "must be at most "+strconv.FormatInt(lim.MaxSize, 10)+" bytes for a "+a.Kind)
		}
		if !slices.Contains(lim.Types, a.ContentType) {
			fe.add("content_type", "must be one of "+strings.Join(lim.Types, ", ")+" for a "+a.Kind)
		}
	})
}

// CheckAttachmentCount refuses one attachment of kind more than its parent
// may hold; existing is how many of that kind the parent holds already.
func CheckAttachmentCount(kind string, existing int) *Error {
	lim := AttachmentLimits[kind]
	if existing >= lim.MaxPerParent {
		return Invalid(FieldError{Field: "parent_id", Message: "already holds " + strconv.Itoa(lim.MaxPerParent) + " attachments of kind " + kind})
	}
	return nil
}

// AttachmentTypeAllowed reports whether bytes sniffed as contentType may be
// stored for kind.
func AttachmentTypeAllowed(kind, contentType string) bool {
	return slices.Contains(AttachmentLimits[kind].Types, contentType)
}

// CheckAttachParent: a rep hangs attachments only on their own visits and
// orders and on notes they wrote; the parent's owner is its rep or author.
func CheckAttachParent(a Caller, parentOwner string) *Error {
	if a.Role == RoleRep && parentOwner != a.UserID {
		return Errorf(CodeForbidden, "a rep may attach files only to their own visits, orders and notes")
	}
	return nil
}
