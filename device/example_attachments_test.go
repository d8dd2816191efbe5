package device_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
)

// Photos on a visit, taken offline: Attach copies each file into the device's
// own storage and queues its row; Sync pushes the rows (after the visit they
// hang on); UploadAttachments sends the bytes in their own lane, resuming an
// interrupted upload from the server's offset, and drops each file once the
// server has confirmed it. It runs against a server started in this process on
// the demo organisation, like Example.
func ExampleClient_UploadAttachments() {
	ctx := context.Background()
	serverURL, stop := startDemoServer(ctx)
	defer stop()
	dir, _ := os.MkdirTemp("", "fieldsync-example")
	defer os.RemoveAll(dir)
	c, err := device.Open(ctx, filepath.Join(dir, "device.db"), device.Options{ServerURL: serverURL,
		Clock: func() time.Time { return demoDay }})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Login(ctx, "rep@demo.fieldsync.dev", "demo-rep-pass"); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		log.Fatal(err)
	}
	visits, _ := c.TodaysVisits(ctx)
	visit := visits[0]

	// Offline: a photo from the camera's file (the app may delete its file
	// afterwards: the SDK keeps a copy) and a signature from memory.
	camera := filepath.Join(dir, "IMG_0042.jpg")
	_ = os.WriteFile(camera, exampleJPEG(), 0o600)
	lat, lng := 53.5511, 9.9937
	photo, err := c.Attach(ctx, device.NewAttachment{ParentTable: domain.TableVisits, ParentID: visit.ID,
		Kind: domain.KindPhoto, Path: camera, Lat: &lat, Lng: &lng, Caption: "promotion display"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Attach(ctx, device.NewAttachment{ParentTable: domain.TableVisits, ParentID: visit.ID,
		Kind: domain.KindSignature, Data: exampleSignature()}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("photo:", photo.ContentType, photo.Status)

	// Back online. Bytes go only after their rows: before Sync they wait.
	up, _ := c.UploadAttachments(ctx, nil)
	fmt.Println("before sync, waiting:", up.Waiting)
	if _, err := c.Sync(ctx); err != nil {
		log.Fatal(err)
	}
	done := 0
	up, err = c.UploadAttachments(ctx, func(p device.UploadProgress) {
		// p.Sent of p.Size bytes: drive a progress bar here.
		if p.Done {
			done++
		}
	})
	if err != nil && device.IsRetryable(err) {
		// A dropped connection: call UploadAttachments again later (also
		// after a restart); each upload resumes where the server stopped.
		log.Fatal(err)
	}
	queued, _ := c.Uploads(ctx)
	fmt.Println("uploaded:", up.Uploaded, "confirmed:", done, "still queued:", len(queued))

	// The server's copy arrives with the next pull.
	if _, err := c.Sync(ctx); err != nil {
		log.Fatal(err)
	}
	atts, _ := c.Attachments(ctx, domain.TableVisits, visit.ID)
	for _, a := range atts {
		fmt.Println(a.Kind, a.Status)
	}
	// Output:
	// photo: image/jpeg pending
	// before sync, waiting: 2
	// uploaded: 2 confirmed: 2 still queued: 0
	// photo stored
	// signature stored
}

func exampleJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, nil)
	return buf.Bytes()
}

func exampleSignature() []byte {
	img := image.NewGray(image.Rect(0, 0, 120, 40))
	for x := range 120 {
		img.SetGray(x, 20, color.Gray{Y: 255})
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
