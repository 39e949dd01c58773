package importers

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"

	"github.com/csdi-hk/csdi/internal/testenv"
)

func mustWKT(t testing.TB, s string) orb.Geometry {
	t.Helper()
	g, err := wkt.Unmarshal(s)
	if err != nil {
		t.Fatalf("WKT %s: %v", s, err)
	}
	return g
}

func TestValidate(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		in     orb.Geometry
		want   string // WKT of the result; "" when rejected
		repair Repair
		err    string // part of the reason when rejected
	}{
		{"point", orb.Point{114, 22}, "POINT(114 22)", 0, ""},
		{"NaN", orb.Point{nan, 22}, "", 0, "not a finite number"},
		{"infinite", orb.LineString{{114, 22}, {math.Inf(1), 22}}, "", 0, "not a finite number"},
		{"out of range", orb.Point{200, 22}, "", 0, "outside longitude"},
		{"grid metres", orb.Point{836694, 819069}, "", 0, "EPSG:2326"},
		{"empty multipoint", orb.MultiPoint{}, "", 0, "empty geometry"},
		{"line with duplicates", orb.LineString{{0, 0}, {0, 0}, {1, 1}, {1, 1}}, "LINESTRING(0 0,1 1)", RepairDuplicates, ""},
		{"line of one point", orb.LineString{{0, 0}, {0, 0}}, "", 0, "2 distinct points"},
		{"crossing line is valid", mustWKT(t, "LINESTRING(0 0,2 2,2 0,0 2)"), "LINESTRING(0 0,2 2,2 0,0 2)", 0, ""},
		{"multiline with an empty part", orb.MultiLineString{{}, {{0, 0}, {1, 1}}}, "MULTILINESTRING((0 0,1 1))", RepairEmptyPart, ""},
		{"square", mustWKT(t, "POLYGON((0 0,1 0,1 1,0 1,0 0))"), "POLYGON((0 0,1 0,1 1,0 1,0 0))", 0, ""},
		{"clockwise square", mustWKT(t, "POLYGON((0 0,0 1,1 1,1 0,0 0))"), "POLYGON((0 0,1 0,1 1,0 1,0 0))", RepairWinding, ""},
		{"counter-clockwise hole", mustWKT(t, "POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 1))"),
			"POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 2,2 1,1 1))", RepairWinding, ""},
		{"unclosed", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}}}, "POLYGON((0 0,1 0,1 1,0 0))", RepairClosed, ""},
		{"duplicates", mustWKT(t, "POLYGON((0 0,1 0,1 0,1 1,0 0,0 0))"), "POLYGON((0 0,1 0,1 1,0 0))", RepairDuplicates, ""},
		{"short shell", mustWKT(t, "POLYGON((0 0,1 0,1 0,0 0))"), "", 0, "2 distinct points"},
		{"short hole dropped", mustWKT(t, "POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 2,2 2,1 1))"), "POLYGON((0 0,4 0,4 4,0 4,0 0))", RepairDuplicates | RepairShortHole, ""},
		{"empty polygon", orb.Polygon{}, "", 0, "empty geometry"},
		{"empty part of a multipolygon", orb.MultiPolygon{{}, {{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}, "MULTIPOLYGON(((0 0,1 0,1 1,0 0)))", RepairEmptyPart, ""},
		{"all parts empty", orb.MultiPolygon{{}, {}}, "", 0, "empty geometry"},
		{"bow-tie", mustWKT(t, "POLYGON((0 0,2 2,2 0,0 2,0 0))"), "", 0, "self-intersection at (1.0000000 1.0000000): the exterior ring crosses itself"},
		{"ring touching itself", mustWKT(t, "POLYGON((0 0,2 0,2 2,1 0,0 2,0 0))"), "", 0, "touches itself"},
		{"spike", mustWKT(t, "POLYGON((0 0,4 0,4 4,2 4,2 6,2 4,0 4,0 0))"), "", 0, "self-intersection at (2.0000000 4.0000000)"},
		{"flat ring", mustWKT(t, "POLYGON((0 0,2 0,1 0,0 0))"), "", 0, "folds back on itself (a spike)"},
		{"hole outside", mustWKT(t, "POLYGON((0 0,1 0,1 1,0 1,0 0),(2 2,3 2,3 3,2 2))"), "", 0, "hole 1 lies outside the exterior ring"},
		{"hole crossing the shell", mustWKT(t, "POLYGON((0 0,4 0,4 4,0 4,0 0),(3 1,5 1,5 2,3 1))"), "", 0, "the exterior ring crosses hole 1"},
		{"hole touching the shell at a point", mustWKT(t, "POLYGON((0 0,4 0,4 4,0 4,0 0),(0 0,2 1,1 2,0 0))"),
			"POLYGON((0 0,4 0,4 4,0 4,0 0),(0 0,1 2,2 1,0 0))", RepairWinding, ""},
		{"holes cutting the interior", mustWKT(t, "POLYGON((0 0,4 0,4 4,0 4,0 0),(0 0,2 1,1 2,0 0),(2 1,4 4,3 1,2 1))"), "", 0, "interior is disconnected"},
		{"nested holes", mustWKT(t, "POLYGON((0 0,9 0,9 9,0 9,0 0),(1 1,8 1,8 8,1 8,1 1),(2 2,3 2,3 3,2 2))"), "", 0, "hole 2 lies inside hole 1"},
		{"nested shells", mustWKT(t, "MULTIPOLYGON(((0 0,4 0,4 4,0 4,0 0)),((1 1,2 1,2 2,1 1)))"), "", 0, "polygon 2 lies inside polygon 1"},
		{"island in a lake", mustWKT(t, "MULTIPOLYGON(((0 0,4 0,4 4,0 4,0 0),(1 1,1 3,3 3,3 1,1 1)),((2 2,2.5 2,2.5 2.5,2 2)))"),
			"MULTIPOLYGON(((0 0,4 0,4 4,0 4,0 0),(1 1,1 3,3 3,3 1,1 1)),((2 2,2.5 2,2.5 2.5,2 2)))", 0, ""},
		{"polygons sharing an edge", mustWKT(t, "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((1 0,2 0,2 1,1 1,1 0)))"), "", 0, "polygon 1: self-intersection at (1.0000000 0.0000000): the exterior ring shares an edge with the exterior ring of polygon 2"},
		{"polygons touching at a corner", mustWKT(t, "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((1 1,2 1,2 2,1 2,1 1)))"),
			"MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((1 1,2 1,2 2,1 2,1 1)))", 0, ""},
		{"collection with an empty member", orb.Collection{orb.MultiPoint{}, orb.Point{1, 2}}, "GEOMETRYCOLLECTION(POINT(1 2))", RepairEmptyPart, ""},
		{"nil", nil, "", 0, "no geometry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, repair, err := Validate(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w := wkt.MarshalString(got); w != strings.ReplaceAll(tt.want, ", ", ",") {
				t.Errorf("got %s, want %s", w, tt.want)
			}
			if repair != tt.repair {
				t.Errorf("repairs %q, want %q", repair, tt.repair)
			}
		})
	}
}

// TestValidateMatchesPostGIS compares the verdicts with GEOS's, through
// PostGIS's ST_IsValid, on polygons drawn on a small grid, where touching,
// collinear and crossing rings are frequent. Whatever is accepted must be
// valid in PostGIS after repair, cover the same points as the input, and be
// wound counter-clockwise outside and clockwise inside.
func TestValidateMatchesPostGIS(t *testing.T) {
	url := testenv.PostGIS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	rng := rand.New(rand.NewPCG(3, 1980))
	const n = 4000
	var inputs, outputs []string
	var accepted []int // index into inputs of each output
	var reasons []string
	var dropped []bool // a short hole was dropped: the input itself is invalid
	for range n {
		g := randomPolygons(rng)
		in := wkt.MarshalString(g)
		out, repair, err := Validate(clone(g))
		inputs = append(inputs, in)
		dropped = append(dropped, repair&RepairShortHole != 0)
		reasons = append(reasons, fmt.Sprint(err))
		if err == nil {
			accepted = append(accepted, len(inputs)-1)
			outputs = append(outputs, wkt.MarshalString(out))
		}
	}
	rows, err := conn.Query(ctx, `SELECT ST_IsValid(g), ST_IsValidReason(g) FROM unnest($1::text[]) WITH ORDINALITY AS t(w, i), ST_GeomFromText(w) AS g ORDER BY i`, inputs)
	if err != nil {
		t.Fatal(err)
	}
	valid, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var ok bool
		var reason string
		err := r.Scan(&ok, &reason)
		return [2]string{fmt.Sprint(ok), reason}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var nValid, disagree int
	ours := map[int]bool{}
	for _, i := range accepted {
		ours[i] = true
	}
	for i := range inputs {
		if valid[i][0] == "true" {
			nValid++
		}
		if dropped[i] {
			continue
		}
		if (valid[i][0] == "true") != ours[i] {
			disagree++
			if disagree <= 20 {
				t.Errorf("%s\n  PostGIS: %s\n  ours:    %s", inputs[i], valid[i][1], reasons[i])
			}
		}
	}
	if disagree > 0 {
		t.Errorf("%d of %d verdicts differ from PostGIS", disagree, n)
	}
	t.Logf("%d polygons: %d valid in PostGIS, %d accepted here", n, nValid, len(accepted))
	if nValid < n/5 || nValid > n*4/5 {
		t.Errorf("the generator made %d valid polygons out of %d: too one-sided to compare", nValid, n)
	}

	rows, err = conn.Query(ctx, `SELECT ST_IsValid(o), ST_IsPolygonCCW(o), ST_Equals(o, ST_MakeValid(i))
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(iw, ow, k), ST_GeomFromText(iw) AS i, ST_GeomFromText(ow) AS o ORDER BY k`,
		slices.Collect(func(yield func(string) bool) {
			for _, i := range accepted {
				if !yield(inputs[i]) {
					return
				}
			}
		}), outputs)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for rows.Next() {
		var ok, ccw, same bool
		if err := rows.Scan(&ok, &ccw, &same); err != nil {
			t.Fatal(err)
		}
		in := inputs[accepted[k]]
		if !ok || !ccw || (!same && !dropped[accepted[k]]) {
			t.Errorf("accepted %s as %s: valid %v, wound right %v, same points %v", in, outputs[k], ok, ccw, same)
		}
		k++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// randomPolygons draws a polygon or a multipolygon of two on a 9×9 grid:
// shells star-shaped around a centre (mostly simple), rectangles, or
// points in any order (mostly not); holes small and anywhere; now and then
// a duplicated point or a reversed ring.
func randomPolygons(rng *rand.Rand) orb.Geometry {
	poly := func() orb.Polygon {
		var shell orb.Ring
		switch rng.IntN(4) {
		case 0, 1:
			x0, y0 := float64(rng.IntN(4)), float64(rng.IntN(4))
			x1, y1 := x0+2+float64(rng.IntN(5)), y0+2+float64(rng.IntN(5))
			shell = orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
		case 2:
			shell = star(rng, orb.Point{4, 4}, 3+rng.IntN(6), 4)
		default:
			for range 3 + rng.IntN(4) {
				shell = append(shell, gridPoint(rng, 0, 9))
			}
		}
		p := orb.Polygon{shell}
		for range max(0, rng.IntN(5)-2) {
			c := gridPoint(rng, 1, 8)
			var h orb.Ring
			if rng.IntN(2) == 0 {
				h = star(rng, c, 3+rng.IntN(2), 1+rng.IntN(2))
			} else {
				for range 3 {
					h = append(h, orb.Point{c[0] + float64(rng.IntN(5)-2), c[1] + float64(rng.IntN(5)-2)})
				}
			}
			p = append(p, h)
		}
		for i := range p {
			if rng.IntN(10) == 0 {
				k := rng.IntN(len(p[i]))
				p[i] = slices.Insert(p[i], k, p[i][k])
			}
			p[i] = append(p[i], p[i][0])
			if rng.IntN(2) == 0 {
				p[i].Reverse()
			}
		}
		return p
	}
	if rng.IntN(4) == 0 {
		return orb.MultiPolygon{poly(), poly()}
	}
	return poly()
}

func gridPoint(rng *rand.Rand, lo, hi int) orb.Point {
	return orb.Point{float64(lo + rng.IntN(hi-lo+1)), float64(lo + rng.IntN(hi-lo+1))}
}

// star is a ring of k grid points at increasing angles around c.
func star(rng *rand.Rand, c orb.Point, k, r int) orb.Ring {
	type pa struct {
		p orb.Point
		a float64
	}
	var pts []pa
	for range k {
		p := orb.Point{c[0] + float64(rng.IntN(2*r+1)-r), c[1] + float64(rng.IntN(2*r+1)-r)}
		pts = append(pts, pa{p, math.Atan2(p[1]-c[1], p[0]-c[0])})
	}
	slices.SortFunc(pts, func(a, b pa) int { return int(math.Copysign(1, a.a-b.a)) })
	var ring orb.Ring
	for _, p := range pts {
		ring = append(ring, p.p)
	}
	return ring
}

func clone(g orb.Geometry) orb.Geometry { return orb.Clone(g) }

// TestSweepMatchesBruteForce checks the sweep finds the same overlapping
// pairs as comparing every pair, on boxes long in one axis or the other.
func TestSweepMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		n := bruteForce + 1 + rng.IntN(300)
		boxes := make([]orb.Bound, n)
		for i := range boxes {
			x, y := rng.Float64()*100, rng.Float64()*100
			w, h := rng.Float64()*float64(round%5)*10, rng.Float64()*3
			if round%2 == 0 {
				w, h = h, w
			}
			boxes[i] = orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w, y + h}}
		}
		if round%3 == 0 { // shared edges and corners
			for i := range boxes {
				boxes[i].Min = orb.Point{math.Round(boxes[i].Min[0]), math.Round(boxes[i].Min[1])}
				boxes[i].Max = orb.Point{math.Round(boxes[i].Max[0]), math.Round(boxes[i].Max[1])}
			}
		}
		var want, got [][2]int
		for i := range n {
			for j := i + 1; j < n; j++ {
				if overlaps(boxes[i], boxes[j]) {
					want = append(want, [2]int{i, j})
				}
			}
		}
		var v Validator
		v.pairs(boxes, func(i, j int) error {
			got = append(got, [2]int{min(i, j), max(i, j)})
			return nil
		})
		slices.SortFunc(got, func(a, b [2]int) int { return cmpPair(a, b) })
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: sweep found %d pairs, brute force %d", round, len(got), len(want))
		}
	}
}

func cmpPair(a, b [2]int) int {
	if a[0] != b[0] {
		return a[0] - b[0]
	}
	return a[1] - b[1]
}

func TestOrientExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	// Nearly collinear points, where the float determinant's sign is
	// noise, on every scale, against big.Rat arithmetic.
	for i := range 20000 {
		scale := math.Ldexp(1, rng.IntN(200)-100)
		a := orb.Point{rng.Float64() * scale, rng.Float64() * scale}
		d := orb.Point{rng.Float64() - 0.5, rng.Float64() - 0.5}
		k1, k2 := rng.Float64()*4-2, rng.Float64()*4-2
		b := orb.Point{a[0] + k1*d[0]*scale, a[1] + k1*d[1]*scale}
		c := orb.Point{a[0] + k2*d[0]*scale, a[1] + k2*d[1]*scale}
		if i%3 == 0 {
			c[0] = math.Nextafter(c[0], math.Inf(1))
		}
		for _, p := range [][3]orb.Point{{a, b, c}, {b, c, a}, {c, a, b}} {
			if got, want := orient(p[0], p[1], p[2]), orientRat(p[0], p[1], p[2]); got != want {
				t.Fatalf("orient %v = %d, want %d", p, got, want)
			}
		}
	}
	tiny := orb.Point{1e-300, 3e-300}
	if got, want := orient(orb.Point{0, 0}, tiny, orb.Point{2e-300, 5e-300}), orientRat(orb.Point{0, 0}, tiny, orb.Point{2e-300, 5e-300}); got != want {
		t.Errorf("orient of tiny numbers = %d, want %d", got, want)
	}
	if orient(orb.Point{0, 0}, orb.Point{1, 1}, orb.Point{3, 3}) != 0 {
		t.Error("collinear points not found collinear")
	}
	if orient(orb.Point{0, 0}, orb.Point{1, 0}, orb.Point{0, 1}) != 1 {
		t.Error("left turn not counter-clockwise")
	}
}

// bigRing is an n-vertex ring like a coastline: a circle of 10 km whose
// radius wanders a little from one vertex to the next.
func bigRing(n int) orb.Polygon {
	rng := rand.New(rand.NewPCG(5, 5))
	ring := make(orb.Ring, 0, n+1)
	r, step := 0.1, 2*math.Pi*0.1/float64(n)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		r = min(max(r+(rng.Float64()-0.5)*step, 0.099), 0.101)
		ring = append(ring, orb.Point{114.1 + r*math.Cos(a), 22.3 + r*math.Sin(a)})
	}
	return orb.Polygon{append(ring, ring[0])}
}

func BenchmarkValidateRing(b *testing.B) {
	p := bigRing(500_000)
	var v Validator
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := v.Validate(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p[0]))*float64(b.N)/b.Elapsed().Seconds(), "vertices/s")
}

func BenchmarkValidateBuilding(b *testing.B) {
	p := mustWKT(b, "POLYGON((114.1 22.3,114.1002 22.3,114.1002 22.3001,114.1001 22.3001,114.1001 22.3002,114.1 22.3002,114.1 22.3))")
	var v Validator
	for b.Loop() {
		if _, _, err := v.Validate(p); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzValidate feeds polygons on a small grid, where every degenerate
// case is near: Validate must not panic, and what it accepts must be
// clean (closed rings of 4 or more distinct-neighbour points, wound right)
// and stay as it is when validated again.
func FuzzValidate(f *testing.F) {
	f.Add([]byte{1, 0, 0, 4, 0, 4, 4, 0, 4})
	f.Add([]byte{2, 0, 0, 8, 0, 8, 8, 0, 8, 255, 2, 2, 3, 2, 3, 3})
	f.Add([]byte{1, 0, 0, 2, 2, 2, 0, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		g := fuzzPolygons(b)
		out, _, err := Validate(g)
		if err != nil {
			return
		}
		var polys orb.MultiPolygon
		switch out := out.(type) {
		case orb.Polygon:
			polys = orb.MultiPolygon{out}
		case orb.MultiPolygon:
			polys = out
		default:
			t.Fatalf("Validate turned %T into %T", g, out)
		}
		for _, p := range polys {
			for i, r := range p {
				if len(r) < 4 || r[0] != r[len(r)-1] {
					t.Fatalf("ring %d of %v is short or open", i, r)
				}
				for k := 1; k < len(r); k++ {
					if r[k] == r[k-1] {
						t.Fatalf("ring %d of %v repeats a point", i, r)
					}
				}
				if (area2(r) > 0) != (i == 0) {
					t.Fatalf("ring %d of %v wound the wrong way", i, r)
				}
			}
		}
		before := wkt.MarshalString(out)
		again, repair, err := Validate(orb.Clone(out))
		if err != nil || repair != 0 || wkt.MarshalString(again) != before {
			t.Fatalf("validating %s again: %s, repairs %q, %v", before, wkt.MarshalString(again), repair, err)
		}
	})
}

// fuzzPolygons reads rings of points on a 16×16 grid: a count byte per
// ring (255 starts a new polygon), then x, y bytes.
func fuzzPolygons(b []byte) orb.Geometry {
	var mp orb.MultiPolygon
	var p orb.Polygon
	for len(b) > 0 {
		k := int(b[0])
		b = b[1:]
		if k == 255 {
			if len(p) > 0 {
				mp = append(mp, p)
			}
			p = nil
			continue
		}
		k = min(k%32, len(b)/2)
		var r orb.Ring
		for i := range k {
			r = append(r, orb.Point{float64(b[2*i] % 16), float64(b[2*i+1] % 16)})
		}
		b = b[2*k:]
		p = append(p, r)
	}
	if len(mp) == 0 {
		return p
	}
	return append(mp, p)
}
