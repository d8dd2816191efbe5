package attachments

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/fieldsync/fieldsync/domain"
)

// Stored images carry no metadata but what the app sent as fields: EXIF (GPS
// position, camera serial numbers, the owner's name, a thumbnail of the
// uncropped picture), XMP, IPTC and comments are dropped by copying the file
// segment by segment, which needs constant memory however large the image.
// The pixels are not re-encoded. Only the orientation survives, in a minimal
// EXIF block of one tag, so that a portrait photo still displays upright.

var errNotImage = errors.New("not a well-formed image")

// Strip copies src to dst without metadata. PDF and unknown types are copied
// as they are.
func Strip(dst io.Writer, src io.Reader, contentType string) error {
	switch contentType {
	case domain.TypeJPEG:
		return stripJPEG(dst, bufio.NewReaderSize(src, 32<<10))
	case domain.TypePNG:
		return stripPNG(dst, bufio.NewReaderSize(src, 32<<10))
	case domain.TypeWebP:
		return stripWebP(dst, src)
	}
	_, err := io.Copy(dst, src)
	return err
}

func stripJPEG(dst io.Writer, r *bufio.Reader) error {
	var soi [2]byte
	if _, err := io.ReadFull(r, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return errNotImage
	}
	if _, err := dst.Write(soi[:]); err != nil {
		return err
	}
	orientation := uint16(0)
	wroteOrientation := false
	for {
		marker, err := nextMarker(r)
		if err != nil {
			return err
		}
		if marker == 0xDA { // start of scan: the rest is image data
			if orientation > 1 && !wroteOrientation {
				if _, err := dst.Write(orientationAPP1(orientation)); err != nil {
					return err
				}
			}
			if _, err := dst.Write([]byte{0xFF, marker}); err != nil {
				return err
			}
			_, err := io.Copy(dst, r)
			return err
		}
		if marker == 0xD9 {
			_, err := dst.Write([]byte{0xFF, marker})
			return err
		}
		var lenb [2]byte
		if _, err := io.ReadFull(r, lenb[:]); err != nil {
			return errNotImage
		}
		n := int(binary.BigEndian.Uint16(lenb[:])) - 2
		if n < 0 {
			return errNotImage
		}
		// APP1 (EXIF, XMP), APP13 (IPTC) and COM go; APP0 (JFIF), APP2 (ICC
		// colour profile), APP14 (Adobe colour transform) and the frame and
		// table segments stay.
		drop := marker == 0xE1 || marker == 0xED || marker == 0xFE || (marker >= 0xE3 && marker <= 0xEF && marker != 0xEE)
		if marker == 0xE1 {
			seg := make([]byte, n) // at most 64 KiB
			if _, err := io.ReadFull(r, seg); err != nil {
				return errNotImage
			}
			if o := exifOrientation(seg); o > 0 {
				orientation = o
			}
			continue
		}
		if drop {
			if _, err := r.Discard(n); err != nil {
				return errNotImage
			}
			continue
		}
		if marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC && orientation > 1 && !wroteOrientation {
			// Before the frame header: where EXIF would have been read.
			if _, err := dst.Write(orientationAPP1(orientation)); err != nil {
				return err
			}
			wroteOrientation = true
		}
		if _, err := dst.Write([]byte{0xFF, marker, lenb[0], lenb[1]}); err != nil {
			return err
		}
		if _, err := io.CopyN(dst, r, int64(n)); err != nil {
			return errNotImage
		}
	}
}

func nextMarker(r *bufio.Reader) (byte, error) {
	b, err := r.ReadByte()
	if err != nil || b != 0xFF {
		return 0, errNotImage
	}
	for {
		m, err := r.ReadByte()
		if err != nil {
			return 0, errNotImage
		}
		if m != 0xFF { // fill bytes
			return m, nil
		}
	}
}

// exifOrientation reads tag 0x0112 of IFD0 from an APP1 payload, or 0.
func exifOrientation(seg []byte) uint16 {
	if len(seg) < 14 || string(seg[:6]) != "Exif\x00\x00" {
		return 0
	}
	t := seg[6:]
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int(bo.Uint32(t[4:8]))
	if off+2 > len(t) {
		return 0
	}
	count := int(bo.Uint16(t[off:]))
	for i := 0; i < count; i++ {
		e := off + 2 + 12*i
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) == 0x0112 {
			if v := bo.Uint16(t[e+8:]); v >= 1 && v <= 8 {
				return v
			}
			return 0
		}
	}
	return 0
}

// orientationAPP1 is an EXIF segment holding only the orientation tag.
func orientationAPP1(o uint16) []byte {
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o >> 8), byte(o), 0, 0, // orientation, SHORT, 1
		0, 0, 0, 0} // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)
	n := len(payload) + 2
	return append([]byte{0xFF, 0xE1, byte(n >> 8), byte(n)}, payload...)
}

// stripPNG drops the ancillary chunks that carry metadata (eXIf, tEXt, zTXt,
// iTXt, tIME); every other chunk is copied with its CRC.
func stripPNG(dst io.Writer, r *bufio.Reader) error {
	sig := make([]byte, 8)
	if _, err := io.ReadFull(r, sig); err != nil || string(sig) != "\x89PNG\r\n\x1a\n" {
		return errNotImage
	}
	if _, err := dst.Write(sig); err != nil {
		return err
	}
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return errNotImage
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		switch typ {
		case "eXIf", "tEXt", "zTXt", "iTXt", "tIME":
			if _, err := r.Discard(int(n + 4)); err != nil {
				return errNotImage
			}
			continue
		}
		if _, err := dst.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(dst, r, n+4); err != nil {
			return errNotImage
		}
		if typ == "IEND" {
			return nil
		}
	}
}

// stripWebP drops the EXIF and XMP chunks of an extended WebP and clears
// their flags. The RIFF size comes first, so the chunks are read once to
// measure and the file is rewritten from a second reader.
func stripWebP(dst io.Writer, src io.Reader) error {
	rs, ok := src.(io.ReadSeeker)
	if !ok {
		return fmt.Errorf("webp: need a seekable source")
	}
	var hdr [12]byte
	if _, err := io.ReadFull(rs, hdr[:]); err != nil || string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WEBP" {
		return errNotImage
	}
	total := int64(4) // "WEBP"
	for {
		var ch [8]byte
		if _, err := io.ReadFull(rs, ch[:]); err == io.EOF {
			break
		} else if err != nil {
			return errNotImage
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:])) + int64(binary.LittleEndian.Uint32(ch[4:])&1)
		if t := string(ch[:4]); t != "EXIF" && t != "XMP " {
			total += 8 + n
		}
		if _, err := rs.Seek(n, io.SeekCurrent); err != nil {
			return errNotImage
		}
	}
	if _, err := rs.Seek(12, io.SeekStart); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(hdr[4:8], uint32(total))
	if _, err := dst.Write(hdr[:]); err != nil {
		return err
	}
	for {
		var ch [8]byte
		if _, err := io.ReadFull(rs, ch[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return errNotImage
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:])) + int64(binary.LittleEndian.Uint32(ch[4:])&1)
		switch string(ch[:4]) {
		case "EXIF", "XMP ":
			if _, err := rs.Seek(n, io.SeekCurrent); err != nil {
				return errNotImage
			}
			continue
		case "VP8X":
			body := make([]byte, n)
			if _, err := io.ReadFull(rs, body); err != nil || len(body) < 1 {
				return errNotImage
			}
			body[0] &^= 0x08 | 0x04 // EXIF and XMP flags
			if _, err := dst.Write(append(ch[:], body...)); err != nil {
				return err
			}
			continue
		}
		if _, err := dst.Write(ch[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(dst, rs, n); err != nil {
			return errNotImage
		}
	}
}
