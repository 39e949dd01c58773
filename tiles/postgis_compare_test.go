package tiles_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/postgis"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/synth"
	"github.com/csdi-hk/csdi/internal/testenv"
	"github.com/csdi-hk/csdi/tiles"
)

// The tile grid of both sides: the defaults of tiles.Options, pg_tileserv
// and Martin.
const (
	extent = 4096
	buffer = 64
	// pixel is a pixel of a 256-pixel tile in tile units.
	pixel = extent / 256
)

// tileBox is the tile proper, without the buffer, in tile units.
var tileBox = orb.Bound{Max: orb.Point{extent, extent}}

// compareLayers is the test data: a few thousand features of every kind,
// clustered the way Hong Kong's are, concave estates with courtyards large
// enough to leave and re-enter tiles, and a coastline of 20,000 vertices,
// long enough for the engine to walk it in runs (tiles/big.go). The
// coastline spans the territory, so it is compared up to z14 only, over
// some 600 tiles there.
func compareLayers() []compareLayer {
	return []compareLayer{
		{synthLayer{"buildings", synth.Buildings(11, 3000)}, 16},
		{synthLayer{"points", synth.Points(11, 1500)}, 16},
		{synthLayer{"roads", synth.Roads(11, 300)}, 16},
		{synthLayer{"estates", synth.Estates(11, 40)}, 16},
		{synthLayer{"coastline", single(synth.Coastline(11, 20_000))}, 14},
	}
}

type synthLayer struct {
	id  string
	seq iter.Seq2[geo.Feature, error]
}

type compareLayer struct {
	synthLayer
	maxZoom maptile.Zoom
}

// single is a sequence of one feature.
func single(f geo.Feature) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) { yield(f, nil) }
}

// TestCompareWithPostGIS is the proof that the tile engine agrees with
// PostGIS's ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y),
// 4096, 64, true), what pg_tileserv, Martin and tegola serve. The same
// features go into PostGIS and into memory; for every tile from z10 to z16
// that either side finds anything in, and every layer, it checks:
//
//   - the same feature ids, but for features that a rule below drops from
//     one side only;
//   - points at the same position;
//   - lines of the same length, within 1% or one pixel;
//   - polygons of the same area, within 1% or one square pixel, both as
//     encoded (tile and buffer) and inside the tile proper. Areas are summed
//     with the sign of each ring's winding, so an exterior or hole wound the
//     wrong way counts against us.
//
// A pixel is 16 units, a pixel of a 256-pixel tile. The two sides cannot
// agree more closely than that, for we simplify with a tolerance of a unit
// where PostGIS only drops collinear points, and the two round in different
// orders: PostGIS snaps the vertices to the grid and then clips, we clip and
// then round. Where a long edge crosses the buffer's border at a shallow
// angle, PostGIS's crossing point, on the edge between snapped vertices, can
// be many units from the true one; so where our length or area is off
// PostGIS's it may instead be within the same tolerance of the exact one,
// of the feature cut by PostGIS before any rounding. Those are counted and
// the first few logged.
//
// The rules that drop a feature from one side only:
//
//   - ours (tiles.collapses): a polygon whose bound in tile units rounds to
//     zero width or height, a line whose bound rounds to a point;
//   - PostGIS's: a line or polygon whose bound is under half a unit both
//     ways;
//   - either: a feature whose encoded geometry reaches no further than a
//     unit in from the buffer's border. PostGIS rounds before it clips, so a
//     point half a unit outside is in its tile and a sliver a fraction of a
//     unit inside becomes a unit wide; we clip first, so the point is out
//     and the sliver rounds to nothing. It is 63 units outside what is drawn.
//   - either: a line or polygon under half a pixel both ways. Rounded to a
//     few grid points, whether anything with an area is left depends on the
//     order of the steps: PostGIS snaps the vertices and then has wagyu
//     repair the ring, we simplify, round, and drop rings without area. In
//     this data it happens at z10 only, to features of at most five units.
//
// And every polygon we encode must have simple rings (MVT 2.1 4.3.4.4; see
// TestTilePolygonsSimple): each that has not is an error, and counted.
func TestCompareWithPostGIS(t *testing.T) {
	ctx := t.Context()
	url := testenv.PostGIS(t)
	store, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	layers := compareLayers()
	infos := make([]catalog.LayerInfo, len(layers))
	for i, l := range layers {
		if infos[i], err = store.ReplaceLayer(ctx, catalog.LayerInfo{ID: l.id, Title: l.id}, l.seq); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	// First as served by default; then with every layer keeping what
	// rounds to nothing (catalog.TileOptions.KeepSmall), which switches our
	// small-feature rule off.
	for _, keepSmall := range []bool{false, true} {
		t.Run(map[bool]string{false: "defaults", true: "keep-small"}[keepSmall], func(t *testing.T) {
			mem := layerMap{}
			for i, l := range layers {
				feats, err := synth.Collect(l.seq)
				if err != nil {
					t.Fatal(err)
				}
				info := infos[i]
				info.Tiles.KeepSmall = keepSmall
				mem[l.id] = catalog.NewLayer(info, feats)
			}
			e := echo.New()
			tiles.NewHandler(mem, tiles.Options{Extent: extent, Buffer: buffer}).Register(e)
			srv := httptest.NewServer(e)
			defer srv.Close()

			c := &comparison{t: t, keepSmall: keepSmall}
			for z := maptile.Zoom(10); z <= 16; z++ {
				// Each layer is compared on the tiles its features reach;
				// the composite tile is fetched for all of them.
				candidates := map[string]map[maptile.Tile]bool{}
				pg := map[string]map[maptile.Tile][]pgFeature{}
				all := map[maptile.Tile]bool{}
				var ids []string
				for _, l := range layers {
					if z > l.maxZoom {
						continue
					}
					ids = append(ids, l.id)
					ts := candidateTiles(mem[l.id], z)
					candidates[l.id] = map[maptile.Tile]bool{}
					for _, tile := range ts {
						candidates[l.id][tile], all[tile] = true, true
					}
					pg[l.id] = postgisTiles(t, conn, l.id, z, ts)
				}
				for _, tile := range sortedTiles(all) {
					ours := fetchTile(t, srv.URL, strings.Join(ids, ","), tile)
					c.byZoom[z].tiles++
					for _, id := range ids {
						// Off a layer's candidates, PostGIS has nothing and
						// neither may we.
						c.tile(tile, id, ours[id], pg[id][tile])
					}
				}
			}
			c.report()
		})
	}
}

type layerMap map[string]*catalog.Layer

func (m layerMap) Layer(id string) (*catalog.Layer, bool) {
	l, ok := m[id]
	return l, ok
}

// tileXY is the position of a point in tile units of zoom z, from the
// spherical Web Mercator formulas (not the engine's code).
func tileXY(p orb.Point, z maptile.Zoom) (float64, float64) {
	n := math.Exp2(float64(z)) * extent
	s := math.Sin(p[1] * math.Pi / 180)
	return (p[0] + 180) / 360 * n, (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * n
}

// candidateTiles lists every tile of zoom z that a feature's bound, grown by
// the buffer and a unit more, reaches: no other tile can hold anything of
// the layer on either side.
func candidateTiles(l *catalog.Layer, z maptile.Zoom) []maptile.Tile {
	set := map[maptile.Tile]bool{}
	const margin = buffer + 1
	for i := range l.Len() {
		b := l.At(i).Geometry.Bound()
		x0, y1 := tileXY(b.Min, z)
		x1, y0 := tileXY(b.Max, z)
		for x := math.Floor((x0 - margin) / extent); x <= math.Floor((x1+margin)/extent); x++ {
			for y := math.Floor((y0 - margin) / extent); y <= math.Floor((y1+margin)/extent); y++ {
				set[maptile.New(uint32(x), uint32(y), z)] = true
			}
		}
	}
	return sortedTiles(set)
}

func sortedTiles(set map[maptile.Tile]bool) []maptile.Tile {
	out := make([]maptile.Tile, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b maptile.Tile) int { return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y)) })
	return out
}

// pgFeature is what ST_AsMVTGeom makes of one feature for one tile.
type pgFeature struct {
	id    uint64
	kind  string // of the stored geometry: Point, LineString, Polygon
	kept  bool   // ST_AsMVTGeom returned a geometry
	gtype string // of that geometry
	// Measures of that geometry: area, area inside the tile proper, length.
	area, visible, length float64
	// The same of the feature's exact geometry in tile units, cut by
	// PostGIS before any rounding.
	exact struct{ area, visible, length float64 }
	point orb.Point
	out   orb.Bound // of that geometry
	bound orb.Bound // of the whole feature, in tile units
}

// postgisTiles runs ST_AsMVTGeom on every candidate feature of every tile of
// one zoom in one query. Its filter is looser than the buffer, so that
// ST_AsMVTGeom alone decides what is kept.
func postgisTiles(t *testing.T, conn *pgx.Conn, layer string, z maptile.Zoom, tiles []maptile.Tile) map[maptile.Tile][]pgFeature {
	t.Helper()
	xs, ys := make([]int32, len(tiles)), make([]int32, len(tiles))
	for i, tile := range tiles {
		xs[i], ys[i] = int32(tile.X), int32(tile.Y)
	}
	// x is the feature in tile units, y down, as ST_AsMVTGeom places it
	// before it rounds.
	q := fmt.Sprintf(`
SELECT t.x, t.y, f.id, replace(ST_GeometryType(f.geom), 'ST_', ''), f.g IS NOT NULL,
	coalesce(replace(ST_GeometryType(f.g), 'ST_', ''), ''),
	coalesce(ST_Area(f.g), 0), coalesce(ST_Area(ST_Intersection(f.g, f.tile)), 0), coalesce(ST_Length(f.g), 0),
	CASE WHEN f.g IS NULL THEN 0 ELSE ST_Area(ST_Intersection(f.x, f.box)) END,
	CASE WHEN f.g IS NULL THEN 0 ELSE ST_Area(ST_Intersection(f.x, f.tile)) END,
	CASE WHEN f.g IS NULL THEN 0 ELSE ST_Length(ST_Intersection(f.x, f.box)) END,
	coalesce(CASE WHEN GeometryType(f.g) = 'POINT' THEN ST_X(f.g) END, 0),
	coalesce(CASE WHEN GeometryType(f.g) = 'POINT' THEN ST_Y(f.g) END, 0),
	coalesce(ST_XMin(f.g), 0), coalesce(ST_YMin(f.g), 0), coalesce(ST_XMax(f.g), 0), coalesce(ST_YMax(f.g), 0),
	ST_XMin(f.x), ST_YMin(f.x), ST_XMax(f.x), ST_YMax(f.x)
FROM unnest($2::int[], $3::int[]) AS t(x, y)
CROSS JOIN LATERAL (
	SELECT id, geom, ST_AsMVTGeom(m, e, $4, $5, true) AS g,
		ST_Affine(m, $4 / (ST_XMax(e) - ST_XMin(e)), 0, 0, -$4 / (ST_YMax(e) - ST_YMin(e)),
			-ST_XMin(e) * $4 / (ST_XMax(e) - ST_XMin(e)), ST_YMax(e) * $4 / (ST_YMax(e) - ST_YMin(e))) AS x,
		ST_MakeEnvelope(0, 0, $4, $4, 3857) AS tile,
		ST_MakeEnvelope(-$5, -$5, $4 + $5, $4 + $5, 3857) AS box
	FROM %s, ST_Transform(geom, 3857) AS m, ST_TileEnvelope($1, t.x, t.y) AS e
	WHERE geom && ST_Transform(ST_TileEnvelope($1, t.x, t.y, margin => $6), 4326)
) f`, pgx.Identifier{"csdi_data", layer}.Sanitize())
	rows, err := conn.Query(t.Context(), q, int32(z), xs, ys, int32(extent), int32(buffer), 2.0*buffer/extent)
	if err != nil {
		t.Fatalf("layer %s z%d: %v", layer, z, err)
	}
	out := map[maptile.Tile][]pgFeature{}
	for rows.Next() {
		var x, y int32
		var f pgFeature
		if err := rows.Scan(&x, &y, &f.id, &f.kind, &f.kept, &f.gtype, &f.area, &f.visible, &f.length,
			&f.exact.area, &f.exact.visible, &f.exact.length, &f.point[0], &f.point[1], &f.out.Min[0], &f.out.Min[1], &f.out.Max[0], &f.out.Max[1],
			&f.bound.Min[0], &f.bound.Min[1], &f.bound.Max[0], &f.bound.Max[1]); err != nil {
			t.Fatalf("layer %s z%d: %v", layer, z, err)
		}
		tile := maptile.New(uint32(x), uint32(y), z)
		out[tile] = append(out[tile], f)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("layer %s z%d: %v", layer, z, err)
	}
	return out
}

// fetchTile gets a tile over HTTP and decodes it with orb's MVT decoder,
// which has nothing in common with the encoder under test. It returns each
// layer's features by id.
func fetchTile(t *testing.T, base, layers string, tile maptile.Tile) map[string]map[uint64]orb.Geometry {
	t.Helper()
	url := fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt", base, layers, tile.Z, tile.X, tile.Y)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	out := map[string]map[uint64]orb.Geometry{}
	switch resp.StatusCode {
	case http.StatusNoContent:
		return out
	case http.StatusOK:
	default:
		t.Fatalf("GET %s: %s %s", url, resp.Status, body)
	}
	decoded, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	for _, l := range decoded {
		if l.Extent != extent {
			t.Fatalf("GET %s: layer %s has extent %d", url, l.Name, l.Extent)
		}
		m := map[uint64]orb.Geometry{}
		for _, f := range l.Features {
			id := uint64(f.ID.(float64))
			if _, dup := m[id]; dup {
				t.Errorf("GET %s: layer %s has feature %d twice", url, l.Name, id)
			}
			m[id] = f.Geometry
		}
		out[l.Name] = m
	}
	return out
}

// signedArea sums the surveyor's formula over every ring: exteriors count
// positive and holes negative when wound as MVT 2.1 requires (clockwise on
// screen, y down), so a ring wound the wrong way shows as a wrong area.
func signedArea(g orb.Geometry) float64 {
	var a float64
	ring := func(r orb.Ring) {
		for i := 0; i+1 < len(r); i++ {
			a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
		}
	}
	switch g := g.(type) {
	case orb.Polygon:
		for _, r := range g {
			ring(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				ring(r)
			}
		}
	}
	return a / 2
}

// baseType folds multi-geometries into their kind.
func baseType(t string) string {
	return strings.TrimPrefix(strings.ToLower(t), "multi")
}

// oursDrops is the engine's small-feature rule, applied to PostGIS's bound
// of the whole feature.
func oursDrops(f pgFeature) bool {
	w := math.Round(f.bound.Min[0]) == math.Round(f.bound.Max[0])
	h := math.Round(f.bound.Min[1]) == math.Round(f.bound.Max[1])
	switch f.kind {
	case "Polygon", "MultiPolygon":
		return w || h
	case "LineString", "MultiLineString":
		return w && h
	}
	return false
}

// postgisDrops is ST_AsMVTGeom's.
func postgisDrops(f pgFeature) bool {
	return f.kind != "Point" && f.kind != "MultiPoint" &&
		f.bound.Max[0]-f.bound.Min[0] < 0.5 && f.bound.Max[1]-f.bound.Min[1] < 0.5
}

// atBufferEdge reports a geometry, as one side encoded it, that reaches no
// further than a unit in from the border of the tile and its buffer.
func atBufferEdge(b orb.Bound) bool {
	const in = buffer - 1.5
	return !b.Intersects(orb.Bound{Min: orb.Point{-in, -in}, Max: orb.Point{extent + in, extent + in}})
}

// subPixel reports a line or polygon under half a pixel both ways.
func subPixel(f pgFeature) bool {
	return f.kind != "Point" && f.kind != "MultiPoint" &&
		f.bound.Max[0]-f.bound.Min[0] < pixel/2 && f.bound.Max[1]-f.bound.Min[1] < pixel/2
}

// comparison checks tiles and keeps the figures the test reports.
type comparison struct {
	t         *testing.T
	keepSmall bool // our small-feature rule is off
	errors    int
	byZoom    [17]zoomStats
	logged    int
	reentry   int // estate tiles where a polygon is cut into several
	holes     int // estate tiles where a polygon keeps a hole
}

type zoomStats struct {
	tiles, features, polygons         int
	oursRule, postgisRule, bufferEdge int
	subPixel                          [2]int // missing here, missing in PostGIS
	exactOnly                         int    // lines and polygons near the exact measure only
	invalid                           int    // polygons of ours with a ring that is not simple
	// The largest area differences, in square units for polygons under
	// 100 square pixels and relative above, where the 1% applies; the
	// first of each pair is the encoded area, the second the tile's.
	worstSmall, worstLarge [2]float64
}

func (c *comparison) errorf(format string, args ...any) {
	c.t.Helper()
	c.errors++
	if c.errors <= 100 {
		c.t.Errorf(format, args...)
	}
}

// check records the outcome of one measure: a failure, or an agreement with
// the exact measure only, of which the first few are logged.
func (c *comparison) check(st *zoomStats, ok, exactOnly bool, msg string) {
	c.t.Helper()
	switch {
	case !ok:
		c.errorf("%s", msg)
	case exactOnly:
		st.exactOnly++
		if c.logged++; c.logged <= 5 {
			c.t.Logf("agrees with the exact measure only: %s", msg)
		}
	}
}

func (c *comparison) tile(tile maptile.Tile, layer string, ours map[uint64]orb.Geometry, pg []pgFeature) {
	c.t.Helper()
	st := &c.byZoom[tile.Z]
	where := fmt.Sprintf("tile %d/%d/%d layer %s", tile.Z, tile.X, tile.Y, layer)
	seen := map[uint64]bool{}
	for _, f := range pg {
		seen[f.id] = true
		g, inOurs := ours[f.id]
		switch {
		case f.kept && !inOurs:
			switch {
			case oursDrops(f) && !c.keepSmall:
				st.oursRule++
			case atBufferEdge(f.out):
				st.bufferEdge++
			case subPixel(f):
				st.subPixel[0]++
			default:
				c.errorf("%s: feature %d (%s, area %.1f, length %.1f, bound %v in tile units) is in PostGIS's tile, not ours",
					where, f.id, f.gtype, f.area, f.length, f.bound)
			}
			continue
		case !f.kept && inOurs:
			switch {
			case postgisDrops(f):
				st.postgisRule++
			case atBufferEdge(g.Bound()):
				st.bufferEdge++
			case subPixel(f):
				st.subPixel[1]++
			default:
				c.errorf("%s: feature %d (%s, area %.1f, bound %v in tile units) is in our tile, not PostGIS's: %v",
					where, f.id, g.GeoJSONType(), signedArea(g), f.bound, g)
			}
			continue
		case !f.kept:
			continue
		}
		st.features++
		if baseType(f.gtype) != baseType(g.GeoJSONType()) {
			c.errorf("%s: feature %d is a %s here, a %s in PostGIS", where, f.id, g.GeoJSONType(), f.gtype)
			continue
		}
		switch baseType(f.gtype) {
		case "point":
			if p, ok := g.(orb.Point); !ok || p != f.point {
				c.errorf("%s: point %d at %v here, %v in PostGIS", where, f.id, g, f.point)
			}
		case "linestring":
			l := planar.Length(g)
			ok, exactOnly := agrees(l, f.length, f.exact.length, pixel)
			msg := fmt.Sprintf("%s: line %d is %.1f units long here, %.1f in PostGIS, %.1f exactly", where, f.id, l, f.length, f.exact.length)
			c.check(st, ok, exactOnly, msg)
		case "polygon":
			st.polygons++
			area := signedArea(g)
			visible := signedArea(clip.Geometry(tileBox, orb.Clone(g)))
			ok1, exact1 := agrees(area, f.area, f.exact.area, pixel*pixel)
			ok2, exact2 := agrees(visible, f.visible, f.exact.visible, pixel*pixel)
			msg := fmt.Sprintf("%s: polygon %d has area %.1f (%.1f in the tile proper) here, %.1f (%.1f) in PostGIS, %.1f (%.1f) exactly; %d rings here",
				where, f.id, area, visible, f.area, f.visible, f.exact.area, f.exact.visible, rings(g))
			c.check(st, ok1 && ok2, exact1 || exact2, msg)
			for i, a := range [2][2]float64{{area, f.area}, {visible, f.visible}} {
				if d := math.Abs(a[0] - a[1]); a[1] < 100*pixel*pixel {
					st.worstSmall[i] = max(st.worstSmall[i], d)
				} else {
					st.worstLarge[i] = max(st.worstLarge[i], d/a[1])
				}
			}
			for _, p := range asMulti(g) {
				if err := invalidRing(p); err != "" {
					st.invalid++
					c.errorf("%s: polygon %d is not simple: %s", where, f.id, err)
				}
			}
			if layer == "estates" {
				if mp, ok := g.(orb.MultiPolygon); ok && len(mp) > 1 {
					c.reentry++
				}
				if rings(g) > len(asMulti(g)) {
					c.holes++
				}
			}
		}
	}
	for id, g := range ours {
		if !seen[id] {
			c.errorf("%s: feature %d (%v) is in our tile, but PostGIS's filter did not even consider it", where, id, g)
		}
	}
}

func (c *comparison) report() {
	c.t.Helper()
	if c.errors > 100 {
		c.t.Errorf("... %d differences in all, the first 100 shown", c.errors)
	}
	var b strings.Builder
	b.WriteString("zoom  tiles  features  polygons  one side only by rule:  near     worst area difference from PostGIS,   polygons\n")
	b.WriteString("                                  ours/PG/edge/sub-px     exact    encoded / in the tile                 not simple\n")
	b.WriteString("                                  (sub-px: not here+not   only     under 100 px² (units²)  over 100 px²  (see TestTilePolygonsSimple)\n")
	b.WriteString("                                   in PostGIS)\n")
	total := 0
	for z, s := range c.byZoom {
		if s.tiles == 0 {
			continue
		}
		total += s.features
		fmt.Fprintf(&b, "z%-4d %5d  %8d  %8d  %4d/%d/%d/%d+%-3d %8d  %14.1f / %-6.1f  %6.2f%% / %.2f%%  %6d\n", z, s.tiles, s.features, s.polygons,
			s.oursRule, s.postgisRule, s.bufferEdge, s.subPixel[0], s.subPixel[1], s.exactOnly, s.worstSmall[0], s.worstSmall[1], 100*s.worstLarge[0], 100*s.worstLarge[1], s.invalid)
	}
	fmt.Fprintf(&b, "estates cut into several polygons in %d tiles, keeping a hole in %d", c.reentry, c.holes)
	c.t.Log("\n" + b.String())
	// The comparison must have had something to compare.
	if total < 10_000 || c.reentry == 0 || c.holes == 0 {
		c.t.Errorf("compared %d features, %d estates re-entering a tile, %d with holes: the test data no longer exercises the engine", total, c.reentry, c.holes)
	}
}

// agrees reports whether our measure of a geometry is within tol or 1% of
// PostGIS's or, failing that, of the exact measure; exactOnly says it was
// the latter: PostGIS's own rounding put it further off.
func agrees(ours, pg, exact, tol float64) (ok, exactOnly bool) {
	if near(ours, pg, tol) {
		return true, false
	}
	return near(ours, exact, tol), true
}

// near reports whether a is within 1% of b or within abs of it.
func near(a, b, abs float64) bool {
	d := math.Abs(a - b)
	return d <= abs || d <= 0.01*math.Abs(b)
}

func asMulti(g orb.Geometry) orb.MultiPolygon {
	switch g := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

func rings(g orb.Geometry) int {
	n := 0
	for _, p := range asMulti(g) {
		n += len(p)
	}
	return n
}

// TestTilePolygonsSimple holds the engine to MVT 2.1 section 4.3.4.4: a
// ring must have no self-intersection or self-tangency. Each case is a
// building from internal/synth (seed 11, as TestCompareWithPostGIS has them)
// that came out of the encoder with a ring that was not simple, given in the
// tile units of its tile before any rounding. PostGIS encodes each of them
// validly (the ST_AsMVTGeom output quoted), because it snaps first and then
// has wagyu repair the rings; the engine clips exactly, rounds, and then
// repairs (simple.go).
func TestTilePolygonsSimple(t *testing.T) {
	tests := []struct {
		name    string
		tile    maptile.Tile
		ring    [][2]float64 // tile units of tile, y down
		postgis string
	}{{
		// A U whose prong ends a third of a unit inside the buffer's
		// border: the exact clip leaves a sliver between the prong and
		// the border, which rounding lays onto the border, so the ring
		// runs along the same stretch of border twice.
		name: "sliver at the buffer's border", tile: maptile.New(13388, 7151, 14),
		ring: [][2]float64{{365.31879917904735, 4205.778443294577}, {430.46432711184025, 4204.392273994163},
			{428.8568889275193, 4128.122994725592}, {406.9042089097202, 4128.590106049553}, {407.5557385124266, 4159.503725546412},
			{382.823810826987, 4160.0299733942375}, {382.1722812280059, 4129.1163544766605}, {363.7113609947264, 4129.50916777458}},
		postgis: "MULTIPOLYGON(((408 4160,407 4129,429 4128,429 4160,408 4160)),((382 4129,383 4160,364 4160,364 4130,382 4129)))",
	}, {
		// A U whose notch reaches to within a twentieth of a unit of the
		// border: the notch's corner rounds onto the border, which the
		// ring also runs along, so the ring touches itself.
		name: "notch rounded onto the border", tile: maptile.New(6692, 3576, 13),
		ring: [][2]float64{{1177.3150245714933, 4164.637494614348}, {1224.685657929629, 4162.314484422095},
			{1224.0709080509841, 4149.665660111699}, {1208.8066148422658, 4150.414207047317}, {1209.2202063445002, 4158.924085473176},
			{1188.072259556502, 4159.961160691455}, {1187.6586680542678, 4151.451282891445}, {1176.7002746909857, 4151.988672384992}},
		postgis: "MULTIPOLYGON(((1188 4160,1209 4159,1209 4150,1224 4150,1224 4160,1188 4160)),((1188 4160,1177 4160,1177 4152,1188 4151,1188 4160)))",
	}, {
		// A U 2.3 by 4 units: simplified and rounded, its prongs cross.
		name: "small U at z11", tile: maptile.New(1673, 894, 11),
		ring: [][2]float64{{1648.1601311429404, 186.38875343592372}, {1650.4702216149308, 186.36846735607833},
			{1650.4348317156546, 182.30015505291522}, {1649.632075489033, 182.30720447190106}, {1649.649065441452, 184.26031697588041},
			{1648.870108700823, 184.2671573953703}, {1648.8531187479384, 182.31404489511624}, {1648.1247412436642, 182.32044115592726}},
		postgis: "POLYGON((1648 186,1648 182,1649 182,1649 184,1650 184,1650 186,1648 186))",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The check must accept what PostGIS made.
			pg, err := wkt.Unmarshal(tt.postgis)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range asMulti(pg) {
				if err := invalidRing(p); err != "" {
					t.Fatalf("PostGIS's %s: %s", tt.postgis, err)
				}
			}
			ring := make(orb.Ring, 0, len(tt.ring)+1)
			for _, p := range tt.ring {
				ring = append(ring, lonLat(tt.tile, p))
			}
			ring = append(ring, ring[0])
			l := catalog.NewLayer(catalog.LayerInfo{ID: "buildings"}, []geo.Feature{{ID: 1, Geometry: orb.Polygon{ring}}})
			e := echo.New()
			tiles.NewHandler(layerMap{"buildings": l}, tiles.Options{Extent: extent, Buffer: buffer}).Register(e)
			srv := httptest.NewServer(e)
			defer srv.Close()
			got := fetchTile(t, srv.URL, "buildings", tt.tile)["buildings"][1]
			if got == nil {
				t.Fatalf("no feature in the tile; PostGIS has %s", tt.postgis)
			}
			for _, p := range asMulti(got) {
				if err := invalidRing(p); err != "" {
					t.Errorf("%s; encoded %v; PostGIS has %s", err, got, tt.postgis)
				}
			}
		})
	}
}

// Small U-shaped buildings, a few units across and jittered, over a tile
// and across the buffer's border, come out of the encoder with simple rings:
// the shapes rounding folds, makes touch or crosses (simple.go).
func TestTilePolygonsSimpleRandom(t *testing.T) {
	tile := maptile.New(13388, 7151, 14)
	r := rand.New(rand.NewPCG(4, 2))
	var feats []geo.Feature
	for i := range 3000 {
		w, h := 1+r.Float64()*7, 1+r.Float64()*7
		x, y := r.Float64()*4000, r.Float64()*4000
		if i%3 == 0 {
			y = extent + buffer - h*r.Float64() // across the buffer's border
		}
		ring := orb.Ring{}
		for _, p := range [][2]float64{{0, 0}, {0, h}, {w, h}, {w, 0}, {2 * w / 3, 0}, {2 * w / 3, 0.6 * h}, {w / 3, 0.6 * h}, {w / 3, 0}} {
			ring = append(ring, lonLat(tile, [2]float64{x + p[0] + r.Float64()*0.8 - 0.4, y + p[1] + r.Float64()*0.8 - 0.4}))
		}
		ring = append(ring, ring[0])
		feats = append(feats, geo.Feature{ID: uint64(i + 1), Geometry: orb.Polygon{ring}})
	}
	l := catalog.NewLayer(catalog.LayerInfo{ID: "buildings", Tiles: catalog.TileOptions{KeepSmall: true}}, feats)
	e := echo.New()
	tiles.NewHandler(layerMap{"buildings": l}, tiles.Options{Extent: extent, Buffer: buffer}).Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	got := fetchTile(t, srv.URL, "buildings", tile)["buildings"]
	if len(got) < len(feats)/2 {
		t.Fatalf("%d of %d buildings in the tile: the test checks too little", len(got), len(feats))
	}
	bad := 0
	for id, g := range got {
		for _, p := range asMulti(g) {
			if err := invalidRing(p); err != "" {
				if bad++; bad <= 5 {
					t.Errorf("building %d: %s; encoded %v", id, err, g)
				}
			}
		}
	}
	t.Logf("%d of %d buildings encoded, %d with a ring that is not simple", len(got), len(feats), bad)
}

// lonLat is the inverse of tileXY for a point in tile units of tile t.
func lonLat(t maptile.Tile, p [2]float64) orb.Point {
	n := math.Exp2(float64(t.Z))
	x := (float64(t.X) + p[0]/extent) / n
	y := (float64(t.Y) + p[1]/extent) / n
	return orb.Point{x*360 - 180, math.Atan(math.Sinh(math.Pi*(1-2*y))) * 180 / math.Pi}
}

// invalidRing says what is wrong when a ring of p meets itself anywhere
// but between neighbouring edges at their shared vertex, or two rings
// cross. (Rings of a polygon may touch at a point.)
func invalidRing(p orb.Polygon) string {
	type seg struct {
		a, b       orb.Point
		ring, i, n int
	}
	var segs []seg
	for ri, r := range p {
		for i := 0; i+1 < len(r); i++ {
			segs = append(segs, seg{r[i], r[i+1], ri, i, len(r) - 1})
		}
	}
	for i, s := range segs {
		for _, u := range segs[i+1:] {
			switch {
			case s.ring != u.ring:
				if crosses(s.a, s.b, u.a, u.b) {
					return fmt.Sprintf("rings %d and %d cross at %v-%v and %v-%v", s.ring, u.ring, s.a, s.b, u.a, u.b)
				}
			case u.i == s.i+1 || s.i == 0 && u.i == s.n-1:
				// Neighbours: they share a vertex and must not fold back.
				v, p, q := s.b, s.a, u.b
				if s.i == 0 && u.i == s.n-1 {
					v, p, q = s.a, s.b, u.a
				}
				if orientation(v, p, q) == 0 && (p[0]-v[0])*(q[0]-v[0])+(p[1]-v[1])*(q[1]-v[1]) > 0 {
					return fmt.Sprintf("ring %d folds back on itself at %v", s.ring, v)
				}
			case meets(s.a, s.b, u.a, u.b):
				return fmt.Sprintf("ring %d meets itself at %v-%v and %v-%v", s.ring, s.a, s.b, u.a, u.b)
			}
		}
	}
	return ""
}

// orientation is the sign of the turn a, b, c.
func orientation(a, b, c orb.Point) int {
	switch v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0]); {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// crosses reports segments ab and cd crossing at a point inside both.
func crosses(a, b, c, d orb.Point) bool {
	return orientation(a, b, c)*orientation(a, b, d) < 0 && orientation(c, d, a)*orientation(c, d, b) < 0
}

// meets reports segments ab and cd sharing any point.
func meets(a, b, c, d orb.Point) bool {
	within := func(a, b, p orb.Point) bool {
		return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
	}
	return crosses(a, b, c, d) ||
		orientation(a, b, c) == 0 && within(a, b, c) || orientation(a, b, d) == 0 && within(a, b, d) ||
		orientation(c, d, a) == 0 && within(c, d, a) || orientation(c, d, b) == 0 && within(c, d, b)
}
