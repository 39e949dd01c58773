package features

import (
	"fmt"
	"math"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/csdi-hk/csdi/internal/testenv"
)

// PROJ's cs2cs is the oracle here: it transforms with the axis order the
// EPSG registry defines, as OGC API Features Part 2 does, so its output is
// what the API must serve, order included.

// cs2cs transforms points given as lon,lat in WGS84 to the CRS named by
// code, returning each in that CRS's authority axis order.
func cs2cs(t *testing.T, code string, pts []orb.Point) [][2]float64 {
	t.Helper()
	bin := testenv.Command(t, "cs2cs")
	var in strings.Builder
	for _, p := range pts {
		fmt.Fprintf(&in, "%.12f %.12f\n", p[1], p[0]) // EPSG:4326 is lat, lon
	}
	cmd := exec.Command(bin, "-f", "%.10f", "EPSG:4326", code)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cs2cs to %s: %v\n%s", code, err, out)
	}
	var res [][2]float64
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("cs2cs to %s: line %q", code, line)
		}
		a, errA := strconv.ParseFloat(f[0], 64)
		b, errB := strconv.ParseFloat(f[1], 64)
		if errA != nil || errB != nil {
			t.Fatalf("cs2cs to %s: line %q", code, line)
		}
		res = append(res, [2]float64{a, b})
	}
	if len(res) != len(pts) {
		t.Fatalf("cs2cs to %s: %d points out for %d in", code, len(res), len(pts))
	}
	return res
}

// partCRS are the CRSs of every collection, with what PROJ calls them and
// how close to PROJ the API must be: 1 mm, or 1e-8 degrees (about 1 mm).
var partCRS = []struct {
	uri, proj string
	tol       float64
}{
	{"http://www.opengis.net/def/crs/OGC/1.3/CRS84", "OGC:CRS84", 1e-8},
	{"http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326", 1e-8},
	{"http://www.opengis.net/def/crs/EPSG/0/2326", "EPSG:2326", 1e-3},
	{"http://www.opengis.net/def/crs/EPSG/0/4611", "EPSG:4611", 1e-8},
	{"http://www.opengis.net/def/crs/EPSG/0/3857", "EPSG:3857", 1e-3},
}

// TestCRSAgainstPROJ fetches the Hong Kong layers in every CRS and compares
// every coordinate, in the order served, with PROJ's.
func TestCRSAgainstPROJ(t *testing.T) {
	f := newFixture(t, Options{})
	for _, c := range partCRS {
		t.Run(c.proj, func(t *testing.T) {
			for _, layer := range []string{"toilets", "hk_areas"} {
				u := f.url + "/ogc/collections/" + layer + "/items?limit=1000&crs=" + url.QueryEscape(c.uri)
				r := getOK(t, u, "application/geo+json")
				if got := r.header.Get("Content-Crs"); got != "<"+c.uri+">" {
					t.Errorf("%s: Content-Crs %q, want <%s>", u, got, c.uri)
				}
				fc, err := geojson.UnmarshalFeatureCollection(r.body)
				if err != nil {
					t.Fatal(err)
				}
				var src []orb.Point
				var served []float64
				for i, w := range f.want[layer] {
					got := fc.Features[i].Geometry
					if got.GeoJSONType() != w.Geometry.GeoJSONType() {
						t.Fatalf("%s %d: %s, want %s", layer, w.ID, got.GeoJSONType(), w.Geometry.GeoJSONType())
					}
					cs := coords(w.Geometry)
					for k := 0; k < len(cs); k += 2 {
						src = append(src, orb.Point{cs[k], cs[k+1]})
					}
					served = append(served, coords(got)...)
				}
				want := cs2cs(t, c.proj, src)
				worst := 0.0
				for i, p := range want {
					d := max(math.Abs(served[2*i]-p[0]), math.Abs(served[2*i+1]-p[1]))
					worst = max(worst, d)
					if d > c.tol {
						t.Fatalf("%s: point %d (%v in WGS84) served as %v, %v; PROJ says %v", layer, i, src[i], served[2*i], served[2*i+1], p)
					}
				}
				t.Logf("%s in %s: %d points, largest difference from PROJ %.3g", layer, c.proj, len(want), worst)
			}

			// One feature asked for on its own comes the same way.
			want := f.want["hk_areas"][4] // a point
			r := getOK(t, fmt.Sprintf("%s/ogc/collections/hk_areas/items/%d?crs=%s", f.url, want.ID, url.QueryEscape(c.uri)), "application/geo+json")
			if got := r.header.Get("Content-Crs"); got != "<"+c.uri+">" {
				t.Errorf("feature: Content-Crs %q", got)
			}
			gf, err := geojson.UnmarshalFeature(r.body)
			if err != nil {
				t.Fatal(err)
			}
			p := cs2cs(t, c.proj, []orb.Point{want.Geometry.(orb.Point)})[0]
			if got := gf.Geometry.(orb.Point); math.Abs(got[0]-p[0]) > c.tol || math.Abs(got[1]-p[1]) > c.tol {
				t.Errorf("feature %d in %s: %v, PROJ says %v", want.ID, c.proj, got, p)
			}
		})
	}
}

// TestBBoxCRS asks for the toilets in a box given in each CRS: the box's
// corners come from PROJ, in the CRS's axis order, and the box's edges lie
// between the rows and columns of toilets, so that the curving of the
// edges in another CRS cannot change the answer.
func TestBBoxCRS(t *testing.T) {
	f := newFixture(t, Options{})
	w, s, e, n := 113.90, 22.245, 113.98, 22.305
	var want []uint64
	for _, ft := range f.want["toilets"] {
		if p := ft.Geometry.(orb.Point); p[0] >= w && p[0] <= e && p[1] >= s && p[1] <= n {
			want = append(want, ft.ID)
		}
	}
	if len(want) != 8 {
		t.Fatalf("the box holds %d toilets, want 8 (4 columns by 2 rows)", len(want))
	}
	for _, c := range partCRS {
		t.Run(c.proj, func(t *testing.T) {
			corners := cs2cs(t, c.proj, []orb.Point{{w, s}, {e, s}, {e, n}, {w, n}})
			lo, hi := corners[0], corners[0]
			for _, p := range corners {
				lo = [2]float64{min(lo[0], p[0]), min(lo[1], p[1])}
				hi = [2]float64{max(hi[0], p[0]), max(hi[1], p[1])}
			}
			bbox := fmt.Sprintf("%.10f,%.10f,%.10f,%.10f", lo[0], lo[1], hi[0], hi[1])
			u := f.url + "/ogc/collections/toilets/items?bbox=" + bbox + "&bbox-crs=" + url.QueryEscape(c.uri)
			r := getOK(t, u, "application/geo+json")
			if got := featureIDs(t, r.json); !slices.Equal(got, want) {
				t.Errorf("bbox %s in %s: ids %v, want %v", bbox, c.proj, got, want)
			}
			// The output stays CRS84 unless crs asks otherwise.
			if got := r.header.Get("Content-Crs"); got != "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>" {
				t.Errorf("Content-Crs %q", got)
			}
		})
	}
	// EPSG:4326 is latitude first, across the antimeridian too.
	u := f.url + "/ogc/collections/places/items?bbox=65,177,70,-177&bbox-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4326")
	if got := featureIDs(t, getOK(t, u, "application/geo+json").json); !slices.Equal(got, []uint64{1, 2, 10}) {
		t.Errorf("antimeridian box in EPSG:4326: %v, want [1 2 10]", got)
	}
}
