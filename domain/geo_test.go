package domain_test

import (
	"math"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

func TestDistanceMeters(t *testing.T) {
	const r = 6371008.8
	tests := []struct {
		name                   string
		lat1, lng1, lat2, lng2 float64
		want                   float64
	}{
		{"SamePoint", 48.137, 11.575, 48.137, 11.575, 0},
		{"OneDegreeOfLatitude", 10, 20, 11, 20, r * math.Pi / 180},
		{"CheckInScale", 48.137, 11.575, 48.138, 11.575, r * math.Pi / 180 / 1000},
		{"QuarterOfEquator", 0, 0, 0, 90, r * math.Pi / 2},
		{"Antipodes", 0, 0, 0, 180, r * math.Pi},
		{"PoleToPole", 90, 0, -90, 0, r * math.Pi},
		{"AcrossTheDateLine", 0, 179.5, 0, -179.5, r * math.Pi / 180},
		{"ParisLondon", 48.8566, 2.3522, 51.5074, -0.1278, 343_556.5}, // computed independently
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.DistanceMeters(tt.lat1, tt.lng1, tt.lat2, tt.lng2)
			back := domain.DistanceMeters(tt.lat2, tt.lng2, tt.lat1, tt.lng1)
			if math.Abs(got-tt.want) > 1 || math.Abs(got-back) > 1e-6 {
				t.Errorf("DistanceMeters = %.3f (back %.3f), want %.3f", got, back, tt.want)
			}
		})
	}
}
