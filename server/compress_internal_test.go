package server

import "testing"

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "identity": false, "br, zstd": false, "gzip": true, "GZIP": true, "x-gzip": true,
		"gzip, deflate, br": true, "gzip;q=0": false, "gzip; q=0.0": false, "gzip;q=0.5": true,
		"*": true, "*;q=0": false, "*, gzip;q=0": false, "gzip;q=0, *": false, "br;q=1, *;q=0.1": true,
		"gzip;q=abc": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
	for ct, want := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "text/css": true, "text/html; charset=utf-8": true,
		"application/javascript": true, "image/png": false, "application/octet-stream": false, "application/problem+json": true, "": false,
	} {
		if got := compressibleType([]byte(ct)); got != want {
			t.Errorf("compressibleType(%q) = %v, want %v", ct, got, want)
		}
	}
}
