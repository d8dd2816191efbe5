package attachments

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

func TestStrip_PNGDropsTextChunks(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	src := buf.Bytes()
	// A tEXt chunk right after IHDR (8 + 25 bytes in).
	data := []byte("Comment\x00SECRET-OWNER")
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(append([]byte("tEXt"), data...)))
	with := append(append(append([]byte{}, src[:33]...), chunk...), src[33:]...)
	if Sniff(with) != domain.TypePNG {
		t.Fatalf("sniffed %q", Sniff(with))
	}
	var out bytes.Buffer
	if err := Strip(&out, bytes.NewReader(with), domain.TypePNG); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Bytes(), []byte("SECRET")) || !bytes.Equal(out.Bytes(), src) {
		t.Errorf("stripped PNG differs from the original without its text chunk")
	}
}

func TestSniff_NotTrustingNames(t *testing.T) {
	for in, want := range map[string]string{"%PDF-1.7\n": domain.TypePDF, "<html>": "", "GIF89a": "",
		"\xff\xd8\xff\xe0": domain.TypeJPEG, "RIFF\x00\x00\x00\x00WEBPVP8 ": domain.TypeWebP} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %q, want %q", in, got, want)
		}
	}
}
