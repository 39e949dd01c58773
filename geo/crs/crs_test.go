package crs

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

const mm = 0.001

// dms is degrees, minutes and seconds as decimal degrees.
func dms(d, m, s float64) float64 { return d + m/60 + s/3600 }

// vector is a published HK1980 / WGS 84 test point, from
// ../../../shared/docs/hong-kong-and-go-libraries.md ("Coordinate systems").
type vector struct {
	name string
	grid orb.Point // HK1980 Grid E, N
	hk80 orb.Point // HK1980 lon, lat; zero when not published
	// hk80Tol is the rounding of the published HK1980 lon/lat in metres:
	// 0.01" is about 0.3 m, 1e-9° about 0.1 mm.
	hk80Tol float64
	wgs84   orb.Point // WGS 84 lon, lat to 1e-9° (0.1 mm)
}

var vectors = []vector{
	{name: "Geodetic Survey transform service",
		grid:  orb.Point{835411.431, 817266.016},
		wgs84: orb.Point{114.168562005, 22.294313001}},
	{name: "geodetic.gov.hk online tool",
		grid:    orb.Point{832591.320, 820351.389},
		hk80:    orb.Point{114.138734989, 22.323701767},
		hk80Tol: mm,
		wgs84:   orb.Point{114.141187917, 22.322172084}},
	{name: "LandsD Explanatory Notes example",
		grid:    orb.Point{836055, 832699},
		hk80:    orb.Point{dms(114, 10, 20.45), dms(22, 26, 06.76)},
		hk80Tol: 0.2,
		wgs84:   orb.Point{114.174805333, 22.433681454}},
	{name: "grid origin",
		grid:    orb.Point{836694.05, 819069.80},
		hk80:    orb.Point{dms(114, 10, 42.80), dms(22, 18, 43.68)},
		hk80Tol: mm,
		wgs84:   orb.Point{114.181009327, 22.310602434}},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if d := geo.Distance(HK1980Grid.ToWGS84(v.grid), v.wgs84); d > mm {
				t.Errorf("EPSG:2326 %v to WGS 84: %.4f m from %v", v.grid, d, v.wgs84)
			}
			if d := planar.Distance(HK1980Grid.FromWGS84(v.wgs84), v.grid); d > mm {
				t.Errorf("WGS 84 %v to EPSG:2326: %.4f m from %v", v.wgs84, d, v.grid)
			}
			if v.hk80 == (orb.Point{}) {
				return
			}
			lon, lat := hk1980Grid.inverse(v.grid[0], v.grid[1])
			if d := geo.Distance(orb.Point{lon, lat}, v.hk80); d > v.hk80Tol {
				t.Errorf("EPSG:2326 %v to EPSG:4611: %.4f m from %v", v.grid, d, v.hk80)
			}
			if d := geo.Distance(HK1980.ToWGS84(v.hk80), v.wgs84); d > v.hk80Tol {
				t.Errorf("EPSG:4611 %v to WGS 84: %.4f m from %v", v.hk80, d, v.wgs84)
			}
			if d := geo.Distance(HK1980.FromWGS84(v.wgs84), v.hk80); d > v.hk80Tol {
				t.Errorf("WGS 84 %v to EPSG:4611: %.4f m from %v", v.wgs84, d, v.hk80)
			}
		})
	}
}

// TestVectorsCatchWrongShift shows that the vectors tell the official
// datum shift from the two usual mistakes: the rotations with the Position
// Vector signs of PROJ's +towgs84 (about 56 m off) and no shift at all
// (about 274 m off). The same computation with a wrong shift must be far
// from every vector, and with the right one, within a millimetre.
func TestVectorsCatchWrongShift(t *testing.T) {
	flipped := newHelmert(intl1924, wgs84Ellipsoid,
		-162.619, -276.959, -161.764,
		0.067753, -2.243648, -1.158828,
		-1.094246)
	none := newHelmert(intl1924, wgs84Ellipsoid, 0, 0, 0, 0, 0, 0, 0)
	shifts := []struct {
		name     string
		h        *helmert
		min, max float64 // distance from the vectors, metres
	}{
		{"EPSG:1825", &hk1980ToWGS84, 0, mm},
		{"rotation signs flipped", &flipped, 50, 62},
		{"no datum shift", &none, 265, 285},
	}
	for _, s := range shifts {
		for _, v := range vectors {
			lon, lat := hk1980Grid.inverse(v.grid[0], v.grid[1])
			lon, lat = s.h.forward(lon*rad, lat*rad)
			d := geo.Distance(orb.Point{lon / rad, lat / rad}, v.wgs84)
			if d < s.min || d > s.max {
				t.Errorf("%s, %s: %.4f m from the vector, want %g to %g m", s.name, v.name, d, s.min, s.max)
			}
		}
	}
}

// TestLandsDRule checks the datum shift against a rule independent of
// EPSG:1825 and of PROJ: the Lands Department's approximation, HK1980 to
// WGS 84 is latitude -5.5" and longitude +8.8". It is about 1 m off in the
// middle of Hong Kong and 2.7 m at the far corners of the grid's extent.
func TestLandsDRule(t *testing.T) {
	worst := 0.0
	for _, p := range hkGrid(1000) {
		lon, lat := hk1980Grid.inverse(p[0], p[1])
		rule := orb.Point{lon + 8.8/3600, lat - 5.5/3600}
		d := geo.Distance(HK1980Grid.ToWGS84(p), rule)
		worst = max(worst, d)
		if d > 3 {
			t.Errorf("EPSG:2326 %v: %.2f m from the LandsD rule %v", p, d, rule)
		}
	}
	t.Logf("up to %.2f m from the LandsD rule", worst)
}

// hkGrid returns n seeded random points of the HK1980 Grid's extent.
func hkGrid(n int) []orb.Point {
	r := rand.New(rand.NewPCG(2326, 1825))
	ps := make([]orb.Point, n)
	for i := range ps {
		ps[i] = orb.Point{800000 + 67500*r.Float64(), 800000 + 48000*r.Float64()}
	}
	return ps
}

func TestRoundTrip(t *testing.T) {
	worst := 0.0
	for _, p := range hkGrid(1000) {
		back := HK1980Grid.FromWGS84(HK1980Grid.ToWGS84(p))
		d := planar.Distance(back, p)
		worst = max(worst, d)
		if d > 0.25*mm {
			t.Errorf("EPSG:2326 %v round trip: %v, %.5f m off", p, back, d)
		}
		g := orb.Point{}
		g[0], g[1] = hk1980Grid.inverse(p[0], p[1])
		back = HK1980.FromWGS84(HK1980.ToWGS84(g))
		if d := geo.Distance(back, g); d > 0.25*mm {
			t.Errorf("EPSG:4611 %v round trip: %v, %.5f m off", g, back, d)
		}
	}
	t.Logf("worst EPSG:2326 round trip: %.3f mm", worst/mm)
}

// TestTmercRoundTrip runs the projection alone far beyond Hong Kong, where
// a wrong series coefficient would show.
func TestTmercRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		lon := 114.1785 + 10*(2*r.Float64()-1)
		lat := 80 * (2*r.Float64() - 1)
		e, n := hk1980Grid.forward(lon, lat)
		lon2, lat2 := hk1980Grid.inverse(e, n)
		if d := geo.Distance(orb.Point{lon, lat}, orb.Point{lon2, lat2}); d > 1e-6 {
			t.Errorf("%v, %v: round trip %v, %v is %.2g m off", lon, lat, lon2, lat2, d)
		}
	}
}

func TestGeocentricRoundTrip(t *testing.T) {
	for _, el := range []ellipsoid{intl1924, wgs84Ellipsoid} {
		for _, h := range []float64{-1000, 0, 100, 10000} {
			for lat := -89.95; lat < 90; lat += 0.35 {
				x, y, z := el.toGeocentric(2, lat*rad, h)
				lon2, lat2 := el.toGeodetic(x, y, z)
				if math.Abs(lat2-lat*rad) > 1e-14 || math.Abs(lon2-2) > 1e-14 {
					t.Errorf("%v h %v lat %v: got lat %v lon %v", el, h, lat, lat2/rad, lon2)
				}
			}
		}
	}
}

// TestHelmertInverse checks the exact inverse on geocentric coordinates and
// measures how far the textbook reverse, the same formula with every
// parameter negated, would be off.
func TestHelmertInverse(t *testing.T) {
	h := &hk1980ToWGS84
	negated := newHelmert(wgs84Ellipsoid, intl1924, 162.619, 276.959, 161.764, 0.067753, -2.243648, -1.158828, 1.094246)
	apply := func(m *[3][3]float64, v [3]float64) [3]float64 {
		return [3]float64{
			m[0][0]*v[0] + m[0][1]*v[1] + m[0][2]*v[2],
			m[1][0]*v[0] + m[1][1]*v[1] + m[1][2]*v[2],
			m[2][0]*v[0] + m[2][1]*v[1] + m[2][2]*v[2],
		}
	}
	dist := func(a, b [3]float64) float64 { return math.Hypot(math.Hypot(a[0]-b[0], a[1]-b[1]), a[2]-b[2]) }
	worstNegated := 0.0
	for _, p := range hkGrid(100) {
		lon, lat := hk1980Grid.inverse(p[0], p[1])
		var src [3]float64
		src[0], src[1], src[2] = intl1924.toGeocentric(lon*rad, lat*rad, 0)
		dst := apply(&h.fwd, src)
		for i := range dst {
			dst[i] += h.t[i]
		}
		back := apply(&h.inv, [3]float64{dst[0] - h.t[0], dst[1] - h.t[1], dst[2] - h.t[2]})
		if d := dist(back, src); d > 1e-6 {
			t.Errorf("%v: exact inverse %.2g m off", p, d)
		}
		naive := apply(&negated.fwd, dst)
		for i := range naive {
			naive[i] += negated.t[i]
		}
		worstNegated = max(worstNegated, dist(naive, src))
	}
	t.Logf("negating the parameters would be up to %.2f mm off", worstNegated/mm)
	if worstNegated < mm {
		t.Errorf("negated parameters are only %.2f mm off: the exact inverse would not be needed", worstNegated/mm)
	}
}

func TestWebMercator(t *testing.T) {
	// The half-width of the Web Mercator square, πR, is a well-known
	// constant, reached at longitude 180 and latitude 85.0511287798°.
	const half = 20037508.342789244
	corner := WebMercator.FromWGS84(orb.Point{180, 85.05112877980659})
	if math.Abs(corner[0]-half) > mm || math.Abs(corner[1]-half) > mm {
		t.Errorf("corner: %v, want %v both", corner, half)
	}
	r := rand.New(rand.NewPCG(3857, 0))
	for range 1000 {
		p := orb.Point{360*r.Float64() - 180, 170*r.Float64() - 85}
		back := WebMercator.ToWGS84(WebMercator.FromWGS84(p))
		if d := geo.Distance(back, p); d > 1e-6 {
			t.Errorf("%v round trip %v: %.2g m", p, back, d)
		}
	}
}

func TestIdentity(t *testing.T) {
	p := orb.Point{114.1, 22.3}
	for _, c := range []CRS{CRS84, WGS84} {
		if c.ToWGS84(p) != p || c.FromWGS84(p) != p {
			t.Errorf("%v is not the identity", c)
		}
	}
}

func TestCodes(t *testing.T) {
	tests := []struct {
		c          CRS
		code, uri  string
		northFirst bool
	}{
		{CRS84, "OGC:CRS84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84", false},
		{WGS84, "EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4326", true},
		{HK1980Grid, "EPSG:2326", "http://www.opengis.net/def/crs/EPSG/0/2326", true},
		{HK1980, "EPSG:4611", "http://www.opengis.net/def/crs/EPSG/0/4611", true},
		{WebMercator, "EPSG:3857", "http://www.opengis.net/def/crs/EPSG/0/3857", false},
		{0, "", "", false},
	}
	for _, tt := range tests {
		if got := tt.c.Code(); got != tt.code {
			t.Errorf("%d: Code %q, want %q", tt.c, got, tt.code)
		}
		if got := tt.c.URI(); got != tt.uri {
			t.Errorf("%v: URI %q, want %q", tt.c, got, tt.uri)
		}
		if got := tt.c.NorthFirst(); got != tt.northFirst {
			t.Errorf("%v: NorthFirst %v, want %v", tt.c, got, tt.northFirst)
		}
	}
	if len(All()) != 5 || All()[0] != CRS84 {
		t.Errorf("All() = %v", All())
	}
}

func TestZeroCRSPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("ToWGS84 on the zero CRS did not panic")
		}
	}()
	var c CRS
	c.ToWGS84(orb.Point{})
}

func TestLookup(t *testing.T) {
	tests := []struct {
		in   string
		want CRS
	}{
		{"EPSG:2326", HK1980Grid},
		{"epsg:2326", HK1980Grid},
		{" 2326 ", HK1980Grid},
		{"urn:ogc:def:crs:EPSG::2326", HK1980Grid},
		{"urn:ogc:def:crs:EPSG:9.8.15:2326", HK1980Grid},
		{"http://www.opengis.net/def/crs/EPSG/0/2326", HK1980Grid},
		{"https://www.opengis.net/def/crs/EPSG/0/2326", HK1980Grid},
		{"EPSG:4611", HK1980},
		{"4611", HK1980},
		{"http://www.opengis.net/def/crs/EPSG/0/4611", HK1980},
		{"EPSG:4326", WGS84},
		{"4326", WGS84},
		{"urn:ogc:def:crs:EPSG::4326", WGS84},
		{"http://www.opengis.net/def/crs/EPSG/0/4326", WGS84},
		{"EPSG:3857", WebMercator},
		{"3857", WebMercator},
		{"http://www.opengis.net/def/crs/EPSG/0/3857", WebMercator},
		{"EPSG:900913", WebMercator},
		{"ESRI:102100", WebMercator},
		{"OGC:CRS84", CRS84},
		{"CRS84", CRS84},
		{"crs84", CRS84},
		{"CRS:84", CRS84},
		{"urn:ogc:def:crs:OGC:1.3:CRS84", CRS84},
		{"urn:ogc:def:crs:OGC::CRS84", CRS84},
		{"http://www.opengis.net/def/crs/OGC/1.3/CRS84", CRS84},
	}
	for _, tt := range tests {
		got, err := Lookup(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, c := range All() {
		for _, s := range []string{c.Code(), c.URI()} {
			if got, err := Lookup(s); err != nil || got != c {
				t.Errorf("Lookup(%q) = %v, %v; want %v", s, got, err, c)
			}
		}
	}
	for _, bad := range []string{"", "EPSG:", "EPSG:32650", "32650", "EPSG:2326:1", "ESRI:2326",
		"urn:ogc:def:crs:EPSG:2326", "http://www.opengis.net/def/crs/EPSG/2326", "CRS83", "WGS84", "OGC:CRS84h"} {
		if got, err := Lookup(bad); err == nil {
			t.Errorf("Lookup(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"EPSG:2326", "2326", "urn:ogc:def:crs:EPSG::2326", "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "CRS:84", "::", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Lookup(s)
		if err != nil {
			return
		}
		if c.Code() == "" {
			t.Fatalf("Lookup(%q) = %d without error", s, c)
		}
		if again, err := Lookup(c.URI()); err != nil || again != c {
			t.Fatalf("Lookup(%q) = %v but its URI gives %v, %v", s, c, again, err)
		}
	})
}

func TestGeometry(t *testing.T) {
	poly := orb.Polygon{{{835000, 817000}, {836000, 817000}, {836000, 818000}, {835000, 817000}}}
	want := orb.Ring{}
	for _, p := range poly[0] {
		want = append(want, HK1980Grid.ToWGS84(p))
	}
	got := ToWGS84(HK1980Grid, poly).(orb.Polygon)
	if !got[0].Equal(want) || !poly[0].Equal(want) {
		t.Errorf("polygon: got %v, want %v, converted in place", got, want)
	}
	back := FromWGS84(HK1980Grid, orb.Collection{got, orb.Point{114.17, 22.3}}).(orb.Collection)
	if d := planar.Distance(back[0].(orb.Polygon)[0][1], orb.Point{836000, 817000}); d > mm {
		t.Errorf("collection round trip: %v", back)
	}
	if ToWGS84(HK1980Grid, nil) != nil {
		t.Error("nil geometry is not nil")
	}
	p := orb.LineString{{114, 22}}
	if g := ToWGS84(CRS84, p); &g.(orb.LineString)[0] != &p[0] || p[0] != (orb.Point{114, 22}) {
		t.Error("CRS84 is not left alone")
	}
}

// TestBound checks that a converted bound holds its whole converted
// outline, which bulges between the corners, and that the corners alone
// would not.
func TestBound(t *testing.T) {
	b := orb.Bound{Min: orb.Point{800000, 800000}, Max: orb.Point{867500, 848000}}
	got := ToWGS84(HK1980Grid, b).(orb.Bound)
	corners := orb.Bound{Min: HK1980Grid.ToWGS84(b.Min), Max: HK1980Grid.ToWGS84(b.Min)}
	for _, c := range []orb.Point{b.Max, b.LeftTop(), b.RightBottom()} {
		corners = corners.Extend(HK1980Grid.ToWGS84(c))
	}
	cornersMiss, gotMiss := 0.0, 0.0
	for i := range 1001 {
		f := float64(i) / 1000
		x, y := b.Min[0]+f*(b.Max[0]-b.Min[0]), b.Min[1]+f*(b.Max[1]-b.Min[1])
		for _, p := range []orb.Point{{x, b.Min[1]}, {x, b.Max[1]}, {b.Min[0], y}, {b.Max[0], y}} {
			q := HK1980Grid.ToWGS84(p)
			gotMiss = max(gotMiss, outside(got, q))
			cornersMiss = max(cornersMiss, outside(corners, q))
		}
	}
	t.Logf("the outline is up to %.1f m outside the corners' bound, %.3f m outside the converted bound", cornersMiss, gotMiss)
	if gotMiss > 0.2 {
		t.Errorf("the outline is up to %.3f m outside the converted bound", gotMiss)
	}
	if cornersMiss < 10 {
		t.Errorf("the outline is only %.1f m outside the corners' bound: the test has no teeth", cornersMiss)
	}
}

// outside is how far, in metres, p lies outside b.
func outside(b orb.Bound, p orb.Point) float64 {
	dx := max(b.Min[0]-p[0], p[0]-b.Max[0], 0)
	dy := max(b.Min[1]-p[1], p[1]-b.Max[1], 0)
	return geo.Distance(p, orb.Point{p[0] + dx, p[1] + dy})
}
