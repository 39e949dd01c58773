package crs

import "math"

// ellipsoid is a reference ellipsoid given by its semi-major axis (metres)
// and inverse flattening, as the EPSG registry gives them.
type ellipsoid struct {
	a, invf float64
}

var (
	wgs84Ellipsoid = ellipsoid{6378137, 298.257223563} // EPSG:7030
	intl1924       = ellipsoid{6378388, 297}           // EPSG:7022, the ellipsoid of HK1980
)

func (e ellipsoid) e2() float64 {
	f := 1 / e.invf
	return f * (2 - f)
}

// toGeocentric converts geodetic longitude and latitude in radians, and the
// height above the ellipsoid in metres, to earth-centred X, Y, Z in metres.
func (e ellipsoid) toGeocentric(lon, lat, h float64) (x, y, z float64) {
	e2 := e.e2()
	sinLat, cosLat := math.Sincos(lat)
	sinLon, cosLon := math.Sincos(lon)
	n := e.a / math.Sqrt(1-e2*sinLat*sinLat)
	return (n + h) * cosLat * cosLon, (n + h) * cosLat * sinLon, (n*(1-e2) + h) * sinLat
}

// toGeodetic is the inverse of toGeocentric, dropping the height. Bowring's
// formula is already close near the surface and the one fixed-point step
// after it takes the error to rounding (TestGeocentricRoundTrip), so no
// loop with a tolerance is needed.
func (e ellipsoid) toGeodetic(x, y, z float64) (lon, lat float64) {
	e2 := e.e2()
	b := e.a * (1 - 1/e.invf)
	ep2 := e2 / (1 - e2)
	p := math.Hypot(x, y)
	r := math.Hypot(z*e.a, p*b)
	sinT, cosT := z*e.a/r, p*b/r // of the parametric latitude
	num, den := z+ep2*b*sinT*sinT*sinT, p-e2*e.a*cosT*cosT*cosT
	sinLat := num / math.Hypot(num, den)
	n := e.a / math.Sqrt(1-e2*sinLat*sinLat)
	return math.Atan2(y, x), math.Atan2(z+e2*n*sinLat, p)
}

// helmert is a 7-parameter similarity transform of geocentric coordinates in
// the Coordinate Frame convention (EPSG method 1032/9607) with the rotation
// matrix linearised as EPSG defines it:
//
//	Xt = T + (1+ds) · R · Xs,  R = [[1, rz, -ry], [-rz, 1, rx], [ry, -rx, 1]]
//
// The reverse uses the exact inverse of that matrix, so that a round trip
// returns to the start. EPSG's reverse, the same formula with the parameters
// negated, misses by about 2 mm in Hong Kong (TestHelmertInverse), PROJ's
// (the transpose of R) by about 0.3 mm.
type helmert struct {
	t      [3]float64
	fwd    [3][3]float64 // (1+ds)·R
	inv    [3][3]float64 // fwd⁻¹
	source ellipsoid
	target ellipsoid
}

// newHelmert takes translations in metres, rotations in arc seconds
// (Coordinate Frame signs) and the scale difference in parts per million.
func newHelmert(source, target ellipsoid, tx, ty, tz, rxSec, rySec, rzSec, dsPPM float64) helmert {
	const sec = math.Pi / (180 * 3600)
	rx, ry, rz := rxSec*sec, rySec*sec, rzSec*sec
	m := 1 + dsPPM*1e-6
	h := helmert{
		t: [3]float64{tx, ty, tz},
		fwd: [3][3]float64{
			{m, m * rz, -m * ry},
			{-m * rz, m, m * rx},
			{m * ry, -m * rx, m},
		},
		source: source,
		target: target,
	}
	h.inv = invert3(h.fwd)
	return h
}

func invert3(a [3][3]float64) [3][3]float64 {
	c := [3][3]float64{ // cofactors, transposed
		{a[1][1]*a[2][2] - a[1][2]*a[2][1], a[0][2]*a[2][1] - a[0][1]*a[2][2], a[0][1]*a[1][2] - a[0][2]*a[1][1]},
		{a[1][2]*a[2][0] - a[1][0]*a[2][2], a[0][0]*a[2][2] - a[0][2]*a[2][0], a[0][2]*a[1][0] - a[0][0]*a[1][2]},
		{a[1][0]*a[2][1] - a[1][1]*a[2][0], a[0][1]*a[2][0] - a[0][0]*a[2][1], a[0][0]*a[1][1] - a[0][1]*a[1][0]},
	}
	det := a[0][0]*c[0][0] + a[0][1]*c[1][0] + a[0][2]*c[2][0]
	for i := range c {
		for j := range c[i] {
			c[i][j] /= det
		}
	}
	return c
}

// forward shifts a point on the source ellipsoid surface (lon, lat in
// radians) to the target datum. The source height is taken as 0 and the
// target height dropped, as PROJ does for 2D data (+proj=push +v_3).
func (h *helmert) forward(lon, lat float64) (float64, float64) {
	x, y, z := h.source.toGeocentric(lon, lat, 0)
	m := &h.fwd
	return h.target.toGeodetic(
		h.t[0]+m[0][0]*x+m[0][1]*y+m[0][2]*z,
		h.t[1]+m[1][0]*x+m[1][1]*y+m[1][2]*z,
		h.t[2]+m[2][0]*x+m[2][1]*y+m[2][2]*z,
	)
}

// reverse shifts a point on the target ellipsoid surface back to the source
// datum. Starting from height 0 on the target, not from the height forward
// dropped (about -3 m in Hong Kong), moves the result along the difference
// of the two ellipsoid normals: up to about 0.2 mm here (TestRoundTrip).
func (h *helmert) reverse(lon, lat float64) (float64, float64) {
	x, y, z := h.target.toGeocentric(lon, lat, 0)
	x, y, z = x-h.t[0], y-h.t[1], z-h.t[2]
	m := &h.inv
	return h.source.toGeodetic(
		m[0][0]*x+m[0][1]*y+m[0][2]*z,
		m[1][0]*x+m[1][1]*y+m[1][2]*z,
		m[2][0]*x+m[2][1]*y+m[2][2]*z,
	)
}

// hk1980ToWGS84 is EPSG:1825 (Hong Kong 1980 to WGS 84 (1)), published by
// the Survey and Mapping Office in 2002, stated accuracy 1 m. Read-only.
var hk1980ToWGS84 = newHelmert(intl1924, wgs84Ellipsoid,
	-162.619, -276.959, -161.764,
	-0.067753, 2.243648, 1.158828,
	-1.094246)
