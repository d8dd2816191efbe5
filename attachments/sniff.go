package attachments

import (
	"bytes"
	"net/http"

	"github.com/fieldsync/fieldsync/domain"
)

// sniffLen is how much of a file Sniff needs.
const sniffLen = 512

// Sniff names the content type of a file from its first bytes, never from
// what the client declared: JPEG, PNG, WebP and PDF are recognised; anything
// else is "" (HEIC is not accepted: its metadata cannot be stripped here, so
// devices send JPEG).
func Sniff(head []byte) string {
	if bytes.HasPrefix(head, []byte("%PDF-")) {
		return domain.TypePDF
	}
	switch t := http.DetectContentType(head); t {
	case domain.TypeJPEG, domain.TypePNG, domain.TypeWebP:
		return t
	}
	return ""
}
