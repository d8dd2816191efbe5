package attachments

import (
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// TestThumb_TransparentOnWhite: a signature is dark strokes on a transparent
// PNG; its JPEG thumbnail must show them on white, not on black.
func TestThumb_TransparentOnWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 480, 160))
	for x := 20; x < 460; x++ {
		img.Set(x, 80, color.NRGBA{20, 30, 90, 255})
	}
	buf, err := encodeThumb(img)
	if err != nil {
		t.Fatal(err)
	}
	th, err := jpeg.Decode(buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := th.Bounds(); b.Dx() != 320 || b.Dy() > 320 {
		t.Fatalf("thumbnail is %v, want 320 wide", b)
	}
	r, g, b, _ := th.At(5, 5).RGBA()
	if r>>8 < 240 || g>>8 < 240 || b>>8 < 240 {
		t.Errorf("a transparent corner became (%d, %d, %d), want white", r>>8, g>>8, b>>8)
	}
}
