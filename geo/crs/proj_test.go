package crs

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"

	"github.com/csdi-hk/csdi/internal/testenv"
)

// The HK1980 CRSs as PROJ strings with EPSG:1825 written as +towgs84
// (Position Vector, so the rotations have the opposite signs of EPSG's
// Coordinate Frame ones). This pins PROJ to the Helmert transformation
// whatever its database would choose for EPSG:2326 to EPSG:4326.
const (
	projTowgs84 = "+ellps=intl +towgs84=-162.619,-276.959,-161.764,0.067753,-2.243648,-1.158828,-1.094246"
	projGrid    = "+proj=tmerc +lat_0=22.3121333333333 +lon_0=114.178555555556 +k=1 +x_0=836694.05 +y_0=819069.8 " + projTowgs84 + " +units=m +type=crs"
	projHK1980  = "+proj=longlat " + projTowgs84 + " +type=crs"
	// projHelmert is the step PROJ must use: the linearised Helmert of
	// EPSG method 9606/9607, not the +exact one, which differs by about
	// 0.3 mm here.
	projHelmert = "+proj=helmert +x=-162.619 +y=-276.959 +z=-161.764 +rx=0.067753 +ry=-2.243648 +rz=-1.158828 +s=-1.094246 +convention=position_vector"
)

// TestPROJ compares every transform with PROJ's cs2cs on points across
// Hong Kong. Source CRSs given as EPSG codes take PROJ's axis order: lat,
// lon for EPSG:4326.
func TestPROJ(t *testing.T) {
	cs2cs := testenv.Command(t, "cs2cs")
	projinfo := testenv.Command(t, "projinfo")

	for _, c := range [][2]string{{projGrid, "EPSG:4326"}, {"EPSG:4326", projGrid}, {projHK1980, "EPSG:4326"}, {"EPSG:4326", projHK1980}} {
		out, err := exec.Command(projinfo, "-s", c[0], "-t", c[1], "-o", "PROJ", "--single-line").CombinedOutput()
		if err != nil {
			t.Fatalf("projinfo %q to %q: %v\n%s", c[0], c[1], err, out)
		}
		if !bytes.Contains(out, []byte("Candidate operations found: 1")) || !bytes.Contains(out, []byte(projHelmert)) || bytes.Contains(out, []byte("+exact")) {
			t.Fatalf("PROJ does not transform %q to %q with %s:\n%s", c[0], c[1], projHelmert, out)
		}
	}
	if out, err := exec.Command(projinfo, "-s", "EPSG:2326", "-t", "EPSG:4326", "-o", "PROJ", "--single-line").CombinedOutput(); err == nil {
		t.Logf("for reference, PROJ's own choice for EPSG:2326 to EPSG:4326:\n%s", out)
	}

	grid := hkGrid(200)
	wgs := make([]orb.Point, len(grid))
	hk80 := make([]orb.Point, len(grid))
	for i, p := range grid {
		wgs[i] = HK1980Grid.ToWGS84(p)
		hk80[i][0], hk80[i][1] = hk1980Grid.inverse(p[0], p[1])
	}
	swap := func(ps []orb.Point) []orb.Point {
		out := make([]orb.Point, len(ps))
		for i, p := range ps {
			out[i] = orb.Point{p[1], p[0]}
		}
		return out
	}
	tests := []struct {
		name     string
		from, to string
		in       []orb.Point // east first
		want     func(orb.Point) orb.Point
		dist     func(a, b orb.Point) float64
		tol      float64
	}{
		// Our reverse is the exact inverse; PROJ's uses the transpose of
		// the rotation matrix, about 0.3 mm away.
		{"EPSG:2326 to WGS 84", projGrid, "EPSG:4326", grid, HK1980Grid.ToWGS84, geo.Distance, 0.01 * mm},
		{"WGS 84 to EPSG:2326", "EPSG:4326", projGrid, wgs, HK1980Grid.FromWGS84, planar.Distance, mm},
		{"EPSG:4611 to WGS 84", projHK1980, "EPSG:4326", hk80, HK1980.ToWGS84, geo.Distance, 0.01 * mm},
		{"WGS 84 to EPSG:4611", "EPSG:4326", projHK1980, wgs, HK1980.FromWGS84, geo.Distance, mm},
		{"WGS 84 to EPSG:3857", "EPSG:4326", "EPSG:3857", wgs, WebMercator.FromWGS84, planar.Distance, 0.01 * mm},
		// The projection alone, on one ellipsoid.
		{"tmerc", "+proj=longlat +ellps=intl +type=crs", strings.Replace(projGrid, projTowgs84, "+ellps=intl", 1),
			hk80, func(p orb.Point) orb.Point {
				e, n := hk1980Grid.forward(p[0], p[1])
				return orb.Point{e, n}
			}, planar.Distance, 0.01 * mm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// PROJ reads and writes EPSG:4326 as lat, lon.
			in := tt.in
			if tt.from == "EPSG:4326" {
				in = swap(in)
			}
			got := runCS2CS(t, cs2cs, tt.from, tt.to, in)
			if tt.to == "EPSG:4326" {
				got = swap(got)
			}
			worst := 0.0
			for i, p := range tt.in {
				want := tt.want(p)
				d := tt.dist(got[i], want)
				worst = max(worst, d)
				if d > tt.tol {
					t.Errorf("%v: PROJ %v, we %v: %.4f mm apart", p, got[i], want, d/mm)
				}
			}
			t.Logf("at most %.4f mm from PROJ", worst/mm)
		})
	}
}

// runCS2CS transforms points with cs2cs, twelve decimals in and out.
func runCS2CS(t *testing.T, cs2cs, from, to string, in []orb.Point) []orb.Point {
	t.Helper()
	var stdin bytes.Buffer
	for _, p := range in {
		fmt.Fprintf(&stdin, "%.12f %.12f\n", p[0], p[1])
	}
	// cs2cs takes an argument starting with "+" as one parameter of a
	// legacy PROJ.4 definition, whose +towgs84 is the +exact Helmert; a
	// leading space makes it a whole CRS like "EPSG:4326".
	cmd := exec.Command(cs2cs, "-f", "%.12f", " "+from, " "+to)
	cmd.Stdin = &stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cs2cs %q %q: %v\n%s", from, to, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(in) {
		t.Fatalf("cs2cs %q %q: %d lines for %d points:\n%s", from, to, len(lines), len(in), out)
	}
	got := make([]orb.Point, len(in))
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			t.Fatalf("cs2cs %q %q line %d: %q", from, to, i+1, l)
		}
		for j := range 2 {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				t.Fatalf("cs2cs %q %q line %d: %q: %v", from, to, i+1, l, err)
			}
			got[i][j] = v
		}
	}
	return got
}
