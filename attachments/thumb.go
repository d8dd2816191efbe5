package attachments

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // decoders for thumbnails
	"io"

	"github.com/disintegration/imaging"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	_ "golang.org/x/image/webp"
)

// Thumbnails are made once, on first request, and kept in the blob store
// beside the original: a JPEG that fits in thumbSide pixels, upright.
const (
	thumbSide = 320
	// maxThumbPixels refuses to decode images larger than 50 megapixels: a
	// decode holds every pixel in memory (4 bytes each).
	maxThumbPixels = 50_000_000
)

func (s *Service) thumbnail(ctx context.Context, b store.Blob) (Content, error) {
	if b.ContentType == domain.TypePDF {
		return Content{}, domain.Errorf(domain.CodeNotFound, "documents have no thumbnail")
	}
	key := thumbKey(b.SHA256)
	if !b.HasThumb {
		if err := s.makeThumb(ctx, b, key); err != nil {
			return Content{}, err
		}
	}
	r, err := s.blobs.Open(ctx, key, 0, -1)
	if err != nil {
		return Content{}, err
	}
	// Thumbnails are small: read it once to know its size and hash.
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return Content{}, fmt.Errorf("read thumbnail: %w", err)
	}
	return Content{Size: int64(len(data)), ContentType: domain.TypeJPEG, ETag: `"t-` + b.StoredSHA256 + `"`,
		open: func(_ context.Context, off, n int64) (io.ReadCloser, error) {
			if n < 0 {
				n = int64(len(data)) - off
			}
			return io.NopCloser(bytes.NewReader(data[off : off+n])), nil
		}}, nil
}

func (s *Service) makeThumb(ctx context.Context, b store.Blob, key string) error {
	select {
	case s.thumbs <- struct{}{}:
		defer func() { <-s.thumbs }()
	case <-ctx.Done():
		return ctx.Err()
	}
	cfgR, err := s.blobs.Open(ctx, blobKey(b.SHA256), 0, -1)
	if err != nil {
		return err
	}
	cfg, _, err := image.DecodeConfig(cfgR)
	cfgR.Close()
	if err != nil || int64(cfg.Width)*int64(cfg.Height) > maxThumbPixels {
		return domain.Errorf(domain.CodeNotFound, "no thumbnail for this image")
	}
	r, err := s.blobs.Open(ctx, blobKey(b.SHA256), 0, -1)
	if err != nil {
		return err
	}
	img, err := imaging.Decode(r, imaging.AutoOrientation(true))
	r.Close()
	if err != nil {
		return domain.Errorf(domain.CodeNotFound, "no thumbnail for this image")
	}
	buf, err := encodeThumb(img)
	if err != nil {
		return err
	}
	if err := s.blobs.Put(ctx, key, buf, int64(buf.Len()), domain.TypeJPEG); err != nil {
		return err
	}
	return s.db.SetBlobThumb(ctx, b.SHA256)
}

// encodeThumb fits img in thumbSide pixels and encodes it as JPEG on a white
// ground: JPEG has no transparency, and a signature (dark strokes on a
// transparent PNG) would otherwise turn into strokes on black.
func encodeThumb(img image.Image) (*bytes.Buffer, error) {
	fit := imaging.Fit(img, thumbSide, thumbSide, imaging.Lanczos)
	flat := imaging.Overlay(imaging.New(fit.Bounds().Dx(), fit.Bounds().Dy(), color.White), fit, image.Pt(0, 0), 1)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, flat, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	return &buf, nil
}
