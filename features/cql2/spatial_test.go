package cql2

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// pg connects to a fresh PostGIS database of the test cluster.
func pg(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.PostGIS(t))
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// ids runs a query returning ids, in order.
func ids(t *testing.T, conn *pgx.Conn, sql string, args ...any) []uint64 {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (uint64, error) {
		var id int64
		err := r.Scan(&id)
		return uint64(id), err
	})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// matching evaluates a cql2-text filter on fs and returns the ids that
// match. The filter is evaluated a second time as cql2-json (written by
// toJSON from the parsed tree and read back with ParseJSON), and the two
// must match the same features: every filter of the reference tests is
// thus checked in both encodings.
func matching(t *testing.T, filter string, fields []geo.Field, fs []geo.Feature) []uint64 {
	t.Helper()
	e, err := ParseText(filter)
	if err != nil {
		t.Fatalf("ParseText(%q): %v", filter, err)
	}
	js := toJSON(t, e)
	fromJSON, err := ParseJSON(js)
	if err != nil {
		t.Fatalf("ParseJSON(%s), the cql2-json of %q: %v", js, filter, err)
	}
	text := eval1(t, filter, e, fields, fs)
	if got := eval1(t, string(js), fromJSON, fields, fs); !slices.Equal(got, text) {
		t.Errorf("%s matches %v as cql2-text, but as cql2-json %s it matches %v", filter, text, js, got)
	}
	return text
}

// eval1 resolves a parsed filter against fields and returns the ids of
// the features of fs that it matches.
func eval1(t *testing.T, filter string, e Expr, fields []geo.Field, fs []geo.Feature) []uint64 {
	t.Helper()
	e, err := Resolve(e, fields, nil)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", filter, err)
	}
	box, hasBox := Bounds(e)
	out := []uint64{}
	for i := range fs {
		if Eval(e, &fs[i]) {
			out = append(out, fs[i].ID)
			if hasBox && !fs[i].Geometry.Bound().Intersects(box) {
				t.Errorf("%s matches feature %d outside its Bounds %v", filter, fs[i].ID, box)
			}
		}
	}
	return out
}

// grid draws random geometries (no collections: GEOS before 3.13, which
// PostGIS on Debian 12 uses, relates them inconsistently) on a coarse grid of exactly representable
// coordinates near Hong Kong, so that shared vertices, collinear edges,
// touching rings and points on boundaries happen often.
type grid struct {
	r     *rand.Rand
	holes []orb.Bound // drawn so far, to draw polygons in and along them
}

func (g *grid) pt() orb.Point {
	return orb.Point{114 + float64(g.r.IntN(9))/8, 22 + float64(g.r.IntN(9))/8}
}

func (g *grid) box() orb.Bound {
	for {
		a, b := g.pt(), g.pt()
		bd := orb.Bound{Min: a, Max: a}.Extend(b)
		if bd.Min[0] < bd.Max[0] && bd.Min[1] < bd.Max[1] {
			return bd
		}
	}
}

// ring is a closed ring, in either orientation.
func (g *grid) ring(pts ...orb.Point) orb.Ring {
	r := orb.Ring(append(pts, pts[0]))
	if g.r.IntN(2) == 0 {
		slices.Reverse(r)
	}
	return r
}

func (g *grid) rect(b orb.Bound) orb.Ring {
	return g.ring(b.Min, orb.Point{b.Max[0], b.Min[1]}, b.Max, orb.Point{b.Min[0], b.Max[1]})
}

func (g *grid) line() orb.LineString {
	ls := orb.LineString{g.pt()}
	for n := 1 + g.r.IntN(3); len(ls) <= n; {
		if p := g.pt(); p != ls[len(ls)-1] {
			ls = append(ls, p)
		}
	}
	return ls
}

func (g *grid) polygon() orb.Polygon {
	switch g.r.IntN(5) {
	case 0:
		return orb.Polygon{g.ring(g.pt(), g.pt(), g.pt())}
	case 1: // a hole anywhere in the shell's box: PostGIS keeps the valid ones
		h := g.box()
		g.holes = append(g.holes, h)
		return orb.Polygon{g.rect(g.box()), g.rect(h)}
	case 2:
		if len(g.holes) > 0 { // in a hole, along its edges from a corner
			h := g.holes[g.r.IntN(len(g.holes))]
			w, n := (h.Max[0]-h.Min[0])*float64(1+g.r.IntN(2))/2, (h.Max[1]-h.Min[1])*float64(1+g.r.IntN(2))/2
			return orb.Polygon{g.rect(orb.Bound{Min: h.Min, Max: orb.Point{h.Min[0] + w, h.Min[1] + n}})}
		}
	case 3: // a diamond, whose edges are diagonal
		c, d := g.pt(), float64(1+g.r.IntN(3))/8
		return orb.Polygon{g.ring(orb.Point{c[0] - d, c[1]}, orb.Point{c[0], c[1] - d}, orb.Point{c[0] + d, c[1]}, orb.Point{c[0], c[1] + d})}
	}
	return orb.Polygon{g.rect(g.box())}
}

func (g *grid) geometry() orb.Geometry {
	switch n := g.r.IntN(100); {
	case n < 14:
		return g.pt()
	case n < 20:
		return orb.MultiPoint{g.pt(), g.pt(), g.pt()}
	case n < 40:
		return g.line()
	case n < 47:
		return orb.MultiLineString{g.line(), g.line()}
	case n < 90:
		return g.polygon()
	}
	return orb.MultiPolygon{g.polygon(), g.polygon()}
}

var pgSpatial = map[string]string{
	"s_intersects": "ST_Intersects", "s_contains": "ST_Contains", "s_within": "ST_Within", "s_disjoint": "ST_Disjoint",
	"s_equals": "ST_Equals", "s_touches": "ST_Touches", "s_crosses": "ST_Crosses", "s_overlaps": "ST_Overlaps",
}

var seed = uint64(20260519)

// TestSpatialAgainstPostGIS runs every spatial function over random
// geometries and checks the matches against PostGIS's.
func TestSpatialAgainstPostGIS(t *testing.T) {
	conn := pg(t)
	ctx := context.Background()
	g := &grid{r: rand.New(rand.NewPCG(0x5ca1ab1e, seed))}
	if _, err := conn.Exec(ctx, `CREATE TABLE g (id int PRIMARY KEY, geom geometry NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	wkt := func(x orb.Geometry) string { return Geometry{G: x}.String() }
	valid := func(x orb.Geometry) bool {
		var ok bool
		// GEOS before 3.13 nodes a line that crosses itself with rounded
		// points and then misses edges it shares exactly with the other
		// geometry (II 0 where ST_Intersection itself finds lines), so
		// lines are drawn simple.
		const q = `SELECT ST_IsValid(g) AND (ST_Dimension(g) <> 1 OR ST_IsSimple(g)) FROM ST_GeomFromText($1, 4326) g`
		if err := conn.QueryRow(ctx, q, wkt(x)).Scan(&ok); err != nil {
			t.Fatalf("ST_IsValid(%s): %v", wkt(x), err)
		}
		return ok
	}
	var fs []geo.Feature
	for len(fs) < 300 {
		x := g.geometry()
		if !valid(x) {
			continue
		}
		id := uint64(len(fs) + 1)
		if _, err := conn.Exec(ctx, `INSERT INTO g VALUES ($1, ST_GeomFromText($2, 4326))`, id, wkt(x)); err != nil {
			t.Fatal(err)
		}
		fs = append(fs, geo.Feature{ID: id, Geometry: x})
	}
	ops := make([]string, 0, len(pgSpatial))
	for op := range pgSpatial {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	for range 40 {
		lit := g.geometry()
		if !valid(lit) {
			continue
		}
		for _, op := range ops {
			filter := fmt.Sprintf("%s(geometry, %s)", strings.ToUpper(op), wkt(lit))
			got := matching(t, filter, nil, fs)
			want := ids(t, conn, `SELECT id FROM g WHERE `+pgSpatial[op]+`(geom, ST_GeomFromText($1, 4326)) ORDER BY id`, wkt(lit))
			if slices.Equal(got, want) {
				continue
			}
			t.Errorf("%s: got %d matches, PostGIS %d", filter, len(got), len(want))
			for _, id := range symmetricDiff(got, want) {
				var pgm string
				if err := conn.QueryRow(ctx, `SELECT ST_Relate(geom, ST_GeomFromText($1, 4326)) FROM g WHERE id = $2`, wkt(lit), id).Scan(&pgm); err != nil {
					t.Fatal(err)
				}
				f := fs[id-1]
				t.Errorf("  feature %d %s: in PostGIS %v, relate %s, here %s", id, wkt(f.Geometry), slices.Contains(want, id),
					pgm, relate(newShape(f.Geometry), newShape(lit)))
			}
		}
	}
}

func symmetricDiff(a, b []uint64) []uint64 {
	var out []uint64
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	return out
}

// String prints the matrix as ST_Relate does, for messages.
func (m matrix) String() string {
	var b strings.Builder
	for _, row := range m {
		for _, d := range row {
			if d < 0 {
				b.WriteByte('F')
			} else {
				b.WriteByte(byte('0' + d))
			}
		}
	}
	return b.String()
}
