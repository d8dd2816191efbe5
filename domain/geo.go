package domain

import "math"

// earthRadiusM is the mean Earth radius (IUGG), in metres.
const earthRadiusM = 6371008.8

// DistanceMeters is the great-circle distance between two points given in
// degrees, by the haversine formula. At the scale of a check-in (metres to a few
// kilometres) the sphere is accurate to well under one percent, which is all a
// distance kept as evidence needs.
func DistanceMeters(lat1, lng1, lat2, lng2 float64) float64 {
	phi1, phi2 := radians(lat1), radians(lat2)
	dPhi, dLambda := radians(lat2-lat1), radians(lng2-lng1)
	h := math.Sin(dPhi/2)*math.Sin(dPhi/2) + math.Cos(phi1)*math.Cos(phi2)*math.Sin(dLambda/2)*math.Sin(dLambda/2)
	// Rounding can push h a hair past 1 for antipodal points; Asin would give NaN.
	return 2 * earthRadiusM * math.Asin(math.Sqrt(math.Min(h, 1)))
}

func radians(deg float64) float64 { return deg * math.Pi / 180 }

// CheckInDistance is the visit's check-in_distance_m: the distance from the
// account to the check-in position, to a tenth of a metre, or nil when either
// position is unknown. It is evidence for managers, never a reason to refuse a
// check-in. Push, conflict resolution and the fixtures all compute it here.
func CheckInDistance(acc Account, v Visit) *float64 {
	if v.CheckInLat == nil || v.CheckInLng == nil || acc.Lat == nil || acc.Lng == nil {
		return nil
	}
	d := math.Round(DistanceMeters(*acc.Lat, *acc.Lng, *v.CheckInLat, *v.CheckInLng)*10) / 10
	return &d
}
