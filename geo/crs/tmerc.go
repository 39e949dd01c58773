package crs

import "math"

// tmerc is the ellipsoidal Transverse Mercator projection (EPSG method 9807)
// by Krüger's series to sixth order in the third flattening n, as in
// C. F. F. Karney, "Transverse Mercator with an accuracy of a few
// nanometers", J. Geodesy 85 (2011), and PROJ's default tmerc. Within a few
// thousand kilometres of the central meridian the series error is in
// nanometres, so Hong Kong's 40 km half-width is far inside it.
type tmerc struct {
	e           float64 // eccentricity
	ak0         float64 // k0 times the rectifying radius A
	lon0        float64 // radians
	fe, fn      float64
	xi0         float64 // ξ of the origin latitude on the central meridian
	alpha, beta [6]float64
}

func newTmerc(el ellipsoid, lat0, lon0, k0, fe, fn float64) *tmerc {
	f := 1 / el.invf
	n := f / (2 - f)
	n2 := n * n
	n3, n4, n5, n6 := n2*n, n2*n2, n2*n2*n, n2*n2*n2
	t := &tmerc{
		e:    math.Sqrt(el.e2()),
		ak0:  k0 * el.a / (1 + n) * (1 + n2/4 + n4/64 + n6/256),
		lon0: lon0 * math.Pi / 180,
		fe:   fe,
		fn:   fn,
		alpha: [6]float64{
			n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
			13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
			61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
			49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
			34729*n5/80640 - 3418889*n6/1995840,
			212378941 * n6 / 319334400,
		},
		beta: [6]float64{
			n/2 - 2*n2/3 + 37*n3/96 - n4/360 - 81*n5/512 + 96199*n6/604800,
			n2/48 + n3/15 - 437*n4/1440 + 46*n5/105 - 1118711*n6/3870720,
			17*n3/480 - 37*n4/840 - 209*n5/4480 + 5569*n6/90720,
			4397*n4/161280 - 11*n5/504 - 830251*n6/7257600,
			4583*n5/161280 - 108847*n6/3991680,
			20648693 * n6 / 638668800,
		},
	}
	t.xi0, _ = t.gauss(lat0*math.Pi/180, 0)
	return t
}

// clenshaw sums Σ c[j]·sin(2(j+1)ζ) for complex ζ = ξ + iη.
func clenshaw(c *[6]float64, xi, eta float64) (float64, float64) {
	s, co := math.Sincos(2 * xi)
	sh, ch := math.Sinh(2*eta), math.Cosh(2*eta)
	sin2 := complex(s*ch, co*sh)  // sin 2ζ
	cos2 := complex(co*ch, -s*sh) // cos 2ζ
	var y0, y1 complex128
	for j := len(c) - 1; j >= 0; j-- {
		y0, y1 = 2*cos2*y0-y1+complex(c[j], 0), y0
	}
	r := sin2 * y0
	return real(r), imag(r)
}

// gauss maps geodetic latitude and longitude from the central meridian
// (radians) to the normalised TM coordinates ξ (north) and η (east).
func (t *tmerc) gauss(lat, dlon float64) (xi, eta float64) {
	tau := math.Tan(lat)
	sigma := math.Sinh(t.e * math.Atanh(t.e*tau/math.Hypot(1, tau)))
	taup := tau*math.Hypot(1, sigma) - sigma*math.Hypot(1, tau) // tan of the conformal latitude
	sinL, cosL := math.Sincos(dlon)
	xi = math.Atan2(taup, cosL)
	eta = math.Asinh(sinL / math.Hypot(taup, cosL))
	dx, de := clenshaw(&t.alpha, xi, eta)
	return xi + dx, eta + de
}

// forward projects lon, lat in degrees to easting, northing in metres.
func (t *tmerc) forward(lon, lat float64) (e, n float64) {
	xi, eta := t.gauss(lat*math.Pi/180, lon*math.Pi/180-t.lon0)
	return t.fe + t.ak0*eta, t.fn + t.ak0*(xi-t.xi0)
}

// inverse maps easting, northing in metres to lon, lat in degrees.
func (t *tmerc) inverse(e, n float64) (lon, lat float64) {
	xi := (n-t.fn)/t.ak0 + t.xi0
	eta := (e - t.fe) / t.ak0
	dx, de := clenshaw(&t.beta, xi, eta)
	xi, eta = xi-dx, eta-de
	sinXi, cosXi := math.Sincos(xi)
	sinhEta := math.Sinh(eta)
	taup := sinXi / math.Hypot(sinhEta, cosXi) // tan of the conformal latitude
	dlon := math.Atan2(sinhEta, cosXi)
	return (t.lon0 + dlon) * 180 / math.Pi, math.Atan(t.tau(taup)) * 180 / math.Pi
}

// tau solves for tan φ given the tangent of the conformal latitude by
// Newton's method (Karney 2011, eqs. 19-21); it converges in two or three
// steps from this start.
func (t *tmerc) tau(taup float64) float64 {
	e2 := t.e * t.e
	tau := taup / (1 - e2)
	for range 5 {
		sigma := math.Sinh(t.e * math.Atanh(t.e*tau/math.Hypot(1, tau)))
		tp := tau*math.Hypot(1, sigma) - sigma*math.Hypot(1, tau)
		d := (taup - tp) / math.Hypot(1, tp) * (1 + (1-e2)*tau*tau) / ((1 - e2) * math.Hypot(1, tau))
		tau += d
		if math.Abs(d) < 1e-15*math.Max(1, math.Abs(tau)) {
			break
		}
	}
	return tau
}
