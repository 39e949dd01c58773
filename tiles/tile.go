package tiles

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// maxLat is where Web Mercator squares the world.
const maxLat = 85.05112877980659

// ctxEvery is how many features are encoded between checks of the context,
// so that a cancelled request stops a large tile early.
const ctxEvery = 512

// buildTile encodes the features of layers that fall in tile t, one MVT layer
// per data layer, named by its id. It returns nil when no feature is left.
//
// Each layer is built with its own tile options: a layer outside its zoom
// range adds nothing, and its properties and simplification are its own.
func buildTile(ctx context.Context, layers []*catalog.Layer, t maptile.Tile, extent, buffer uint32) ([]byte, error) {
	tb := newTileBuilder(t, float64(extent), float64(buffer))
	query := tb.wgs84Bound()
	var out []byte
	var idx []int
	for _, l := range layers {
		if !inZoomRange(l.Info.Tiles, int(t.Z), zoomLimit) {
			continue
		}
		tb.setLayer(l.Info.Tiles)
		idx = idx[:0]
		l.Search(query, func(i int, _ *geo.Feature) bool {
			idx = append(idx, i)
			return true
		})
		// Search gives no order; id order gives the same bytes every time
		// and the same drawing order in every tile.
		slices.Sort(idx)
		enc := newLayerEncoder(l.Info.ID, extent)
		enc.keep = keepSet(l.Info.Tiles.Properties)
		for n, i := range idx {
			if n%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("tile %d/%d/%d of layer %q: %w", t.Z, t.X, t.Y, l.Info.ID, err)
				}
			}
			f := l.At(i)
			tb.add(enc, f.ID, f.Geometry, f.Properties)
		}
		out = enc.appendLayer(out)
	}
	return out, nil
}

// tileBuilder projects, clips and simplifies geometries for one tile.
type tileBuilder struct {
	tile   maptile.Tile
	extent float64
	// box is the tile plus its buffer in tile coordinates.
	box  orb.Bound
	simp *simplify.DouglasPeuckerSimplifier
	// keepSmall keeps features that round to nothing, as a unit mark.
	keepSmall bool

	// For rings longer than bigRing (big.go): the box and a unit more in
	// longitude and latitude, degrees per unit, and how close in degrees a
	// vertex may be to the last one kept.
	runQuery         orb.Bound
	degLon, degLat   float64
	thinLon, thinLat float64
}

func newTileBuilder(t maptile.Tile, extent, buffer float64) *tileBuilder {
	tb := &tileBuilder{
		tile:   t,
		extent: extent,
		box:    orb.Bound{Min: orb.Point{-buffer, -buffer}, Max: orb.Point{extent + buffer, extent + buffer}},
	}
	tb.runQuery = tb.wgs84(tb.box.Pad(1))
	// Degrees per unit, taking latitude at the tile's edge nearer the
	// pole, where a degree of latitude spans the most units.
	tb.degLon = 360 / (math.Exp2(float64(t.Z)) * extent)
	lat := math.Min(maxLat, math.Max(math.Abs(tb.runQuery.Min[1]), math.Abs(tb.runQuery.Max[1])))
	tb.degLat = tb.degLon * math.Cos(lat*math.Pi/180)
	tb.setLayer(catalog.TileOptions{})
	return tb
}

// setLayer applies a layer's tile options to the features that follow.
func (tb *tileBuilder) setLayer(o catalog.TileOptions) {
	f := o.Simplify
	if f == 0 {
		f = 1
	}
	// One unit at extent 4096, a sixteenth of a pixel of a 256-pixel tile:
	// about as far as rounding moves a point, so nothing visible changes
	// while the near-collinear points of dense data go.
	tol := f * tb.extent / 4096
	tb.simp = simplify.DouglasPeucker(tol)
	tb.keepSmall = o.KeepSmall
	tb.thinLon, tb.thinLat = tol*tb.degLon, tol*tb.degLat
}

// add encodes a feature's geometry into enc if any of it falls in the tile.
// MVT has no collections, so each member becomes a feature of its own with
// the same id.
func (tb *tileBuilder) add(enc *layerEncoder, id uint64, g orb.Geometry, props map[string]any) {
	if c, ok := g.(orb.Collection); ok {
		for _, m := range c {
			tb.add(enc, id, m, props)
		}
		return
	}
	if g = tb.geometry(g); g != nil {
		enc.add(id, g, props)
	}
}

// wgs84Bound is the tile plus its buffer in longitude and latitude.
func (tb *tileBuilder) wgs84Bound() orb.Bound { return tb.wgs84(tb.box) }

// wgs84 is a bound in tile coordinates in longitude and latitude.
func (tb *tileBuilder) wgs84(box orb.Bound) orb.Bound {
	n := math.Exp2(float64(tb.tile.Z))
	lon := func(px float64) float64 { return (px/tb.extent+float64(tb.tile.X))/n*360 - 180 }
	lat := func(py float64) float64 {
		y := math.Pi * (1 - 2*(py/tb.extent+float64(tb.tile.Y))/n)
		return math.Max(-90, math.Min(90, math.Atan(math.Sinh(y))*180/math.Pi))
	}
	return orb.Bound{
		Min: orb.Point{lon(box.Min[0]), lat(box.Max[1])},
		Max: orb.Point{lon(box.Max[0]), lat(box.Min[1])},
	}
}

// project maps longitude and latitude to tile coordinates: Web Mercator
// scaled so that the tile spans 0 to extent, y down.
func (tb *tileBuilder) project(p orb.Point) orb.Point {
	scale := math.Exp2(float64(tb.tile.Z)) * tb.extent
	lat := math.Max(-maxLat, math.Min(maxLat, p[1]))
	sin := math.Sin(lat * math.Pi / 180)
	y := 0.5 - math.Log((1+sin)/(1-sin))/(4*math.Pi)
	return orb.Point{
		((p[0]+180)/360)*scale - float64(tb.tile.X)*tb.extent,
		y*scale - float64(tb.tile.Y)*tb.extent,
	}
}

func (tb *tileBuilder) projectLine(ls []orb.Point) []orb.Point {
	out := make([]orb.Point, len(ls))
	for i, p := range ls {
		out[i] = tb.project(p)
	}
	return out
}

// geometry returns g in tile coordinates, clipped to the tile plus buffer
// and simplified, or nil when nothing of it is in the tile.
func (tb *tileBuilder) geometry(g orb.Geometry) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		if p := tb.project(g); tb.box.Contains(p) {
			return p
		}
	case orb.MultiPoint:
		var mp orb.MultiPoint
		for _, p := range g {
			if p := tb.project(p); tb.box.Contains(p) {
				mp = append(mp, p)
			}
		}
		if len(mp) > 0 {
			return mp
		}
	case orb.LineString:
		if mls := tb.lines(orb.MultiLineString{g}); len(mls) > 0 {
			return mls
		}
	case orb.MultiLineString:
		if mls := tb.lines(g); len(mls) > 0 {
			return mls
		}
	case orb.Polygon:
		if mp := tb.polygons(orb.MultiPolygon{g}); len(mp) > 0 {
			return mp
		}
	case orb.MultiPolygon:
		if mp := tb.polygons(g); len(mp) > 0 {
			return mp
		}
	case orb.Ring:
		return tb.geometry(orb.Polygon{g})
	case orb.Bound:
		return tb.geometry(g.ToPolygon())
	}
	return nil
}

// tileBound is a bound in longitude and latitude in tile coordinates. Both
// axes of the projection are monotonic, so it is also the bound of the
// projected geometry: features can be dropped before any vertex is projected.
func (tb *tileBuilder) tileBound(b orb.Bound) orb.Bound {
	p, q := tb.project(b.Min), tb.project(b.Max)
	return orb.Bound{Min: orb.Point{p[0], q[1]}, Max: orb.Point{q[0], p[1]}}
}

func (tb *tileBuilder) lines(mls orb.MultiLineString) orb.MultiLineString {
	var out orb.MultiLineString
	for _, ls := range mls {
		var pl orb.LineString
		var b orb.Bound
		if len(ls) > bigRing {
			// See big.go: the chords that stand for runs outside the box
			// stay outside it, so the clipped parts are the same.
			var lb orb.Bound
			pl, lb, _ = tb.reduce(ls)
			b = tb.tileBound(lb)
		} else {
			b = tb.tileBound(ls.Bound())
		}
		if !b.Intersects(tb.box) {
			continue
		}
		if collapses(b, false) {
			if tb.keepSmall && tb.box.Contains(b.Center()) {
				out = append(out, orb.LineString(unitMark(b, false)))
			}
			continue
		}
		if pl == nil {
			pl = tb.projectLine(ls)
		}
		parts := orb.MultiLineString{pl}
		if !insideBox(tb.box, b) {
			parts = clip.LineString(tb.box, pl)
		}
		for _, part := range parts {
			out = append(out, tb.simp.LineString(part))
		}
	}
	return out
}

func (tb *tileBuilder) polygons(mp orb.MultiPolygon) orb.MultiPolygon {
	var out orb.MultiPolygon
	for _, p := range mp {
		if len(p) == 0 {
			continue
		}
		var pp orb.Polygon
		var b orb.Bound
		if isBig(p) {
			if pp, b = tb.bigPolygon(p); pp == nil {
				continue
			}
		} else if b = tb.tileBound(p[0].Bound()); !b.Intersects(tb.box) {
			continue
		}
		if collapses(b, true) {
			if tb.keepSmall && tb.box.Contains(b.Center()) {
				out = append(out, orb.Polygon{unitMark(b, true)})
			}
			continue
		}
		if pp == nil {
			pp = make(orb.Polygon, len(p))
			for i, r := range p {
				pp[i] = orb.Ring(tb.projectLine(r))
			}
			if pp = orient(pp); pp == nil {
				continue
			}
		}
		parts := orb.MultiPolygon{pp}
		if !insideBox(tb.box, b) {
			parts = clipPolygon(tb.box, pp)
		}
		for _, part := range parts {
			out = append(out, tb.simp.Polygon(part))
		}
	}
	return out
}

// collapses reports whether a geometry with bound b in tile coordinates
// rounds to nothing: a polygon whose rounded bound has no width or no
// height, a line whose rounded bound is one point. Rounding is monotonic, so
// no vertex can round outside the rounded bound. At low zoom most small
// features end here, before any clipping.
func collapses(b orb.Bound, polygon bool) bool {
	w := math.Round(b.Min[0]) == math.Round(b.Max[0])
	h := math.Round(b.Min[1]) == math.Round(b.Max[1])
	if polygon {
		return w || h
	}
	return w && h
}

func insideBox(box, b orb.Bound) bool {
	return b.Min[0] > box.Min[0] && b.Max[0] < box.Max[0] && b.Min[1] > box.Min[1] && b.Max[1] < box.Max[1]
}

// unitMark stands for a feature with bound b that rounds to nothing, for
// layers that keep small features: a unit square, or for a line a unit
// segment, at the rounded corner of b.
func unitMark(b orb.Bound, polygon bool) orb.Ring {
	c := orb.Point{math.Round(b.Min[0]), math.Round(b.Min[1])}
	if !polygon {
		return orb.Ring{c, {c[0] + 1, c[1]}}
	}
	return orb.Ring{c, {c[0] + 1, c[1]}, {c[0] + 1, c[1] + 1}, {c[0], c[1] + 1}, c}
}
