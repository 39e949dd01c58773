package tiles

import (
	"context"
	"fmt"
	"math"
	"runtime"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/catalog"
)

// maxLat is where Web Mercator squares the world.
const maxLat = 85.05112877980659

// ctxEvery is how many features are encoded between checks of the context,
// so that a cancelled request stops a large tile early, and between yields
// of the processor. Without them, a build ran to its end while requests that
// had arrived waited for a P: Go's scheduler finds goroutines woken by the
// network late when every P is busy, and at z16 the 99th percentile of
// latency was 190 ms for a median of 7 ms (22 ms with the yields; see
// BENCHMARKS.md).
const ctxEvery = 512

// buildTile encodes the features of layers that fall in tile t, one MVT layer
// per data layer, named by its id. It returns nil when no feature is left.
//
// Each layer is built with its own tile options: a layer outside its zoom
// range adds nothing, and its properties and simplification are its own.
func buildTile(ctx context.Context, layers []*catalog.Layer, t maptile.Tile, extent, buffer uint32) ([]byte, error) {
	return new(builder).build(ctx, nil, layers, t, extent, buffer)
}

// builder holds what building a tile needs beyond the tile itself, kept from
// tile to tile (Handler pools them): a tile of the dense core has tens of
// thousands of features, and allocating for each was much of its cost.
type builder struct {
	tb  tileBuilder
	enc *layerEncoder
	idx []int32
	out []byte // the last tile built, to build the next one in
}

// build appends tile t of layers to out.
func (bd *builder) build(ctx context.Context, out []byte, layers []*catalog.Layer, t maptile.Tile, extent, buffer uint32) ([]byte, error) {
	tb := &bd.tb
	tb.init(t, float64(extent), float64(buffer))
	query := tb.wgs84Bound()
	if bd.enc == nil {
		bd.enc = newLayerEncoder("", extent)
	}
	enc := bd.enc
	for _, l := range layers {
		if !inZoomRange(l.Info.Tiles, int(t.Z), zoomLimit) {
			continue
		}
		tb.setLayer(l.Info.Tiles)
		idx := bd.idx[:0]
		l.SearchSlots(query, func(slot int32) bool {
			idx = append(idx, slot)
			return true
		})
		// In slot order, as the search gives them: the same bytes every
		// time and the same drawing order in every tile, and the layer's
		// memory read forward.
		bd.idx = idx
		enc.reset(l.Info.ID, extent)
		enc.setClipBox(extent, buffer)
		enc.setLayer(l, keepSet(l.Info.Tiles.Properties))
		tb.layer = l
		for n, i := range idx {
			if n%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("tile %d/%d/%d of layer %q: %w", t.Z, t.X, t.Y, l.Info.ID, err)
				}
				runtime.Gosched() // see ctxEvery
			}
			f := l.SlotFeature(i)
			tb.slot = i
			tb.add(enc, f.ID, f.Geometry, l.SlotTags(i))
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
	box orb.Bound
	// scale, tx and ty map Web Mercator to tile coordinates (project).
	scale, tx, ty float64
	// merc is the Taylor series of the Mercator ordinate about the tile's
	// latitude (project).
	merc mercSeries
	// tol is the simplification tolerance in units.
	tol float64
	// The layer and slot of the feature being added, slot -1 when not
	// known: its bound in the layer's index (catalog.Layer.SlotBound) may
	// be larger than the feature by slack units on each side in tile
	// coordinates. See lineBound.
	layer *catalog.Layer
	slot  int32
	slack float64
	// keepSmall keeps features that round to nothing, as a unit mark.
	keepSmall bool

	// For rings longer than bigRing (big.go): the box and a unit more in
	// longitude and latitude, degrees per unit, and how close in degrees a
	// vertex may be to the last one kept.
	runQuery         orb.Bound
	degLon, degLat   float64
	thinLon, thinLat float64

	// Scratch space for one feature: the geometry that geometry returns
	// lives here until the next call.
	pts   []orb.Point
	rings []orb.Ring
	polys []orb.Polygon
	lines []orb.LineString
	mask  []byte
	stack []int
	ends  []int // where clipped parts end in pts
	clip  clipScratch
	sh    shape
}

func newTileBuilder(t maptile.Tile, extent, buffer float64) *tileBuilder {
	tb := new(tileBuilder)
	tb.init(t, extent, buffer)
	return tb
}

// init readies tb for tile t, keeping its scratch space.
func (tb *tileBuilder) init(t maptile.Tile, extent, buffer float64) {
	tb.tile, tb.extent = t, extent
	tb.box = orb.Bound{Min: orb.Point{-buffer, -buffer}, Max: orb.Point{extent + buffer, extent + buffer}}
	tb.scale = math.Exp2(float64(t.Z)) * extent
	tb.tx, tb.ty = float64(t.X)*extent, float64(t.Y)*extent
	tb.runQuery = tb.wgs84(tb.box.Pad(1))
	tb.merc = newMercSeries((tb.runQuery.Min[1]+tb.runQuery.Max[1])/2, tb.scale)
	// Degrees per unit, taking latitude at the tile's edge nearer the
	// pole, where a degree of latitude spans the most units.
	tb.degLon = 360 / (math.Exp2(float64(t.Z)) * extent)
	lat := math.Min(maxLat, math.Max(math.Abs(tb.runQuery.Min[1]), math.Abs(tb.runQuery.Max[1])))
	tb.degLat = tb.degLon * math.Cos(lat*math.Pi/180)
	// A float32 step at the largest longitude and latitude near the tile,
	// in units, twice over: features small enough for it to matter lie
	// there.
	lon := max(math.Abs(tb.runQuery.Min[0]), math.Abs(tb.runQuery.Max[0]))
	tb.slack = 2 * max(ulp32(lon)/tb.degLon, ulp32(lat)/tb.degLat)
	tb.slot = -1
	tb.setLayer(catalog.TileOptions{})
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
	tb.tol = f * tb.extent / 4096
	tb.keepSmall = o.KeepSmall
	tb.thinLon, tb.thinLat = tb.tol*tb.degLon, tb.tol*tb.degLat
}

// add encodes a feature's geometry into enc if any of it falls in the tile.
// MVT has no collections, so each member becomes a feature of its own with
// the same id.
func (tb *tileBuilder) add(enc *layerEncoder, id uint64, g orb.Geometry, tags catalog.Tags) {
	if c, ok := g.(orb.Collection); ok {
		tb.slot = -1 // its bound is that of all the members
		for _, m := range c {
			tb.add(enc, id, m, tags)
		}
		return
	}
	if sh := tb.shape(g); sh.kind != 0 {
		enc.addShape(id, sh, tags)
	}
}

// shape is a geometry in tile coordinates as tileBuilder makes it for the
// encoder: points, lines or polygons by kind, without the allocation that
// putting each in an orb.Geometry costs.
type shape struct {
	kind   uint32 // geomPoint, geomLineString or geomPolygon; 0 for nothing
	single bool   // a Point rather than a MultiPoint
	points orb.MultiPoint
	lines  orb.MultiLineString
	polys  orb.MultiPolygon
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
	x := ((p[0]+180)/360)*tb.scale - tb.tx
	if y, ok := tb.merc.at(p[1]); ok {
		return orb.Point{x, y*tb.scale - tb.ty}
	}
	lat := math.Max(-maxLat, math.Min(maxLat, p[1]))
	sin := math.Sin(lat * math.Pi / 180)
	y := 0.5 - math.Log((1+sin)/(1-sin))/(4*math.Pi)
	return orb.Point{x, y*tb.scale - tb.ty}
}

// mercSeries evaluates the Web Mercator ordinate near a latitude by its
// Taylor series: a sine and a logarithm for every vertex were a sixth of
// the cost of a dense tile, and near the tile a few multiplications give
// the same value to far below a unit.
//
// With Y(φ) = atanh(sin φ), y = 1/2 - Y/2π. The series to the fourth power
// of d = φ - φ0 leaves out about Y⁽⁵⁾d⁵/120, with Y⁽⁵⁾ under 30 below 60°
// of latitude; so |d| is held under a radius for which that, in units of
// the deepest tiles (2π/scale each), is under 1e-6 of a unit, and beyond it
// (or where the series is no good, toward the poles) project computes y
// exactly.
type mercSeries struct {
	ok                 bool
	phi0, r            float64
	y0, c1, c2, c3, c4 float64
}

func newMercSeries(lat0, scale float64) mercSeries {
	if math.Abs(lat0) > 60 {
		return mercSeries{}
	}
	phi := lat0 * math.Pi / 180
	t, s := math.Tan(phi), 1/math.Cos(phi)
	// 30 d⁵/120 < 1e-6 * 2π/scale.
	r := math.Pow(8e-6*math.Pi/scale, 0.2)
	return mercSeries{
		ok:   true,
		phi0: phi,
		r:    min(r, 0.05),
		y0:   math.Atanh(math.Sin(phi)),
		c1:   s,
		c2:   s * t / 2,
		c3:   s * (t*t + s*s) / 6,
		c4:   s * t * (t*t + 5*s*s) / 24,
	}
}

// at is the Mercator ordinate (0 at the top of the world, 1 at the bottom)
// at latitude lat, if lat is within the series' radius.
func (m *mercSeries) at(lat float64) (float64, bool) {
	d := lat*math.Pi/180 - m.phi0
	if !m.ok || d <= -m.r || d >= m.r {
		return 0, false
	}
	y := m.y0 + d*(m.c1+d*(m.c2+d*(m.c3+d*m.c4)))
	return 0.5 - y/(2*math.Pi), true
}

// projectLine returns ls projected, in the scratch space. Its capacity is
// its length: appending to it copies it rather than overwrite what follows.
func (tb *tileBuilder) projectLine(ls []orb.Point) []orb.Point {
	start := len(tb.pts)
	for _, p := range ls {
		tb.pts = append(tb.pts, tb.project(p))
	}
	return tb.pts[start:len(tb.pts):len(tb.pts)]
}

// projectRing is projectLine for a ring, closed if it was not.
func (tb *tileBuilder) projectRing(r orb.Ring) orb.Ring {
	start := len(tb.pts)
	tb.projectLine(r)
	if n := len(tb.pts); n > start && tb.pts[start] != tb.pts[n-1] {
		tb.pts = append(tb.pts, tb.pts[start])
	}
	return tb.pts[start:len(tb.pts):len(tb.pts)]
}

// geometry returns g in tile coordinates, clipped to the tile plus buffer
// and simplified, or nil when nothing of it is in the tile. The result lives
// in tb's scratch space until the next call.
func (tb *tileBuilder) geometry(g orb.Geometry) orb.Geometry {
	switch sh := tb.shape(g); {
	case sh.kind == geomPoint && sh.single:
		return sh.points[0]
	case sh.kind == geomPoint:
		return sh.points
	case sh.kind == geomLineString:
		return sh.lines
	case sh.kind == geomPolygon:
		return sh.polys
	}
	return nil
}

// shape is geometry without the orb.Geometry. It returns a shape of tb's,
// valid until the next call.
func (tb *tileBuilder) shape(g orb.Geometry) *shape {
	tb.pts, tb.rings, tb.polys, tb.lines = tb.pts[:0], tb.rings[:0], tb.polys[:0], tb.lines[:0]
	tb.clip.reset()
	sh := &tb.sh
	*sh = shape{}
	switch g := g.(type) {
	case orb.Point:
		if p := tb.project(g); tb.box.Contains(p) {
			tb.pts = append(tb.pts, p)
			sh.kind, sh.single, sh.points = geomPoint, true, tb.pts
		}
	case orb.MultiPoint:
		for _, p := range g {
			if p := tb.project(p); tb.box.Contains(p) {
				tb.pts = append(tb.pts, p)
			}
		}
		if len(tb.pts) > 0 {
			sh.kind, sh.points = geomPoint, tb.pts
		}
	case orb.LineString:
		if mls := tb.lineStrings(g); len(mls) > 0 {
			sh.kind, sh.lines = geomLineString, mls
		}
	case orb.MultiLineString:
		if mls := tb.lineStrings(g...); len(mls) > 0 {
			sh.kind, sh.lines = geomLineString, mls
		}
	case orb.Polygon:
		if mp := tb.polygons(g); len(mp) > 0 {
			sh.kind, sh.polys = geomPolygon, mp
		}
	case orb.MultiPolygon:
		if mp := tb.polygons(g...); len(mp) > 0 {
			sh.kind, sh.polys = geomPolygon, mp
		}
	case orb.Ring:
		return tb.shape(orb.Polygon{g})
	case orb.Bound:
		return tb.shape(g.ToPolygon())
	}
	return sh
}

// tileBound is a bound in longitude and latitude in tile coordinates. Both
// axes of the projection are monotonic, so it is also the bound of the
// projected geometry: features can be dropped before any vertex is projected.
func (tb *tileBuilder) tileBound(b orb.Bound) orb.Bound {
	p, q := tb.project(b.Min), tb.project(b.Max)
	return orb.Bound{Min: orb.Point{p[0], q[1]}, Max: orb.Point{q[0], p[1]}}
}

// lineBound is the bound in tile coordinates of line ls, a feature's only
// line (single) or one of several, as far as deciding on it needs it: the
// index's bound when the line is certainly too long to collapse, which
// spares reading all its points for their bound (a road crossing a z16
// tile runs on far beyond it), and the exact bound otherwise. A larger
// bound only sends a line inside the box through the clipper, which gives
// it back whole. (For polygons, small and read whole anyway, the index's
// bound saved nothing.)
func (tb *tileBuilder) lineBound(ls orb.LineString, single bool) orb.Bound {
	if tb.slot >= 0 && single {
		o := tb.tileBound(tb.layer.SlotBound(tb.slot))
		// Wider or taller than a unit, a bound cannot round to a point.
		if o.Max[0]-o.Min[0]-2*tb.slack >= 1 || o.Max[1]-o.Min[1]-2*tb.slack >= 1 {
			return o
		}
	}
	return tb.tileBound(boundOf(ls))
}

// ulp32 is the float32 step above |v|.
func ulp32(v float64) float64 {
	f := float32(math.Abs(v))
	return float64(math.Nextafter32(f, float32(math.Inf(1))) - f)
}

// boundOf is the bound of pts, which must not be empty; orb's Bound goes
// through Extend and IsEmpty for every point.
func boundOf(pts []orb.Point) orb.Bound {
	x0, y0 := pts[0][0], pts[0][1]
	x1, y1 := x0, y0
	for _, p := range pts[1:] {
		x0, x1 = min(x0, p[0]), max(x1, p[0])
		y0, y1 = min(y0, p[1]), max(y1, p[1])
	}
	return orb.Bound{Min: orb.Point{x0, y0}, Max: orb.Point{x1, y1}}
}

func (tb *tileBuilder) lineStrings(mls ...orb.LineString) orb.MultiLineString {
	out := tb.lines[:0]
	for _, ls := range mls {
		if len(ls) == 0 {
			continue
		}
		var pl orb.LineString
		var b orb.Bound
		if len(ls) > bigRing {
			// See big.go: the chords that stand for runs outside the box
			// stay outside it, so the clipped parts are the same.
			var lb orb.Bound
			pl, lb, _ = tb.reduce(ls)
			b = tb.tileBound(lb)
		} else {
			b = tb.lineBound(ls, len(mls) == 1)
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
		if insideBox(tb.box, b) {
			if pl == nil {
				pl = tb.projectLine(ls)
			}
			out = append(out, tb.simplify(pl))
			continue
		}
		if pl != nil {
			out = tb.clipLine(out, pl)
			continue
		}
		// Only the runs of segments that come near the box are projected
		// and clipped: a road crossing a z16 tile goes on for kilometres
		// beyond it, where each vertex takes the exact projection (see
		// mercSeries) to be clipped away. A segment whose bound misses the
		// box adds nothing to the clipped parts and ends the one before it,
		// so the parts are the same.
		q := tb.runQuery
		for from := 0; from+1 < len(ls); {
			for from+1 < len(ls) && !segmentNear(q, ls[from], ls[from+1]) {
				from++
			}
			to := from
			for to+1 < len(ls) && segmentNear(q, ls[to], ls[to+1]) {
				to++
			}
			if to > from {
				out = tb.clipLine(out, tb.projectLine(ls[from:to+1]))
			}
			from = to
		}
	}
	tb.lines = out
	return out
}

// clipLine appends the parts of projected line pl inside the box to out,
// each simplified.
func (tb *tileBuilder) clipLine(out orb.MultiLineString, pl []orb.Point) orb.MultiLineString {
	from := len(tb.pts)
	tb.pts, tb.ends = appendClipLine(tb.box, tb.pts, pl, tb.ends[:0])
	for _, to := range tb.ends {
		out = append(out, tb.simplify(tb.pts[from:to:to]))
		from = to
	}
	return out
}

// segmentNear reports whether the bound of segment ab meets q.
func segmentNear(q orb.Bound, a, b orb.Point) bool {
	return min(a[0], b[0]) <= q.Max[0] && max(a[0], b[0]) >= q.Min[0] &&
		min(a[1], b[1]) <= q.Max[1] && max(a[1], b[1]) >= q.Min[1]
}

func (tb *tileBuilder) polygons(mp ...orb.Polygon) orb.MultiPolygon {
	out := tb.polys[:0]
	for _, p := range mp {
		if len(p) == 0 || len(p[0]) == 0 {
			continue
		}
		var pp orb.Polygon
		var b orb.Bound
		if isBig(p) {
			if pp, b = tb.bigPolygon(p); pp == nil {
				continue
			}
		} else if b = tb.tileBound(boundOf(p[0])); !b.Intersects(tb.box) {
			continue
		}
		if collapses(b, true) {
			if tb.keepSmall && tb.box.Contains(b.Center()) {
				out = append(out, orb.Polygon{unitMark(b, true)})
			}
			continue
		}
		if pp == nil {
			start := len(tb.rings)
			for _, r := range p {
				tb.rings = append(tb.rings, tb.projectRing(r))
			}
			if pp = orient(tb.rings[start:len(tb.rings):len(tb.rings)]); pp == nil {
				continue
			}
		}
		if insideBox(tb.box, b) {
			out = append(out, tb.simplifyPolygon(pp))
			continue
		}
		for _, part := range tb.clip.polygon(tb.box, pp) {
			out = append(out, tb.simplifyPolygon(part))
		}
	}
	tb.polys = out
	return out
}

// simplify is Douglas-Peucker with tolerance tb.tol, in place, as
// orb/simplify does it (the same points are kept) but with its mask and
// stack kept from call to call.
func (tb *tileBuilder) simplify(ls []orb.Point) []orb.Point {
	if len(ls) <= 2 {
		return ls
	}
	mask := tb.mask[:0]
	for range ls {
		mask = append(mask, 0)
	}
	mask[0], mask[len(ls)-1] = 1, 1
	stack := append(tb.stack[:0], 0, len(ls)-1)
	tol2 := tb.tol * tb.tol
	for len(stack) > 0 {
		start, end := stack[len(stack)-2], stack[len(stack)-1]
		// The squared distance of each point from the segment, times
		// the squared length of the segment l2, which is the same for
		// every point: the farthest point is the same, with no division
		// (planar.DistanceFromSegmentSquared divides for each point).
		a, b := ls[start], ls[end]
		dx, dy := b[0]-a[0], b[1]-a[1]
		l2 := dx*dx + dy*dy
		if l2 == 0 {
			// The distance from a point (also for a segment too short
			// for its square): any scale will do.
			l2, dx, dy = 1, 0, 0
		}
		maxDist, maxIndex := 0.0, 0
		for i := start + 1; i < end; i++ {
			p := ls[i]
			px, py := p[0]-a[0], p[1]-a[1]
			var d float64
			switch dot := px*dx + py*dy; {
			case dot <= 0:
				d = (px*px + py*py) * l2
			case dot >= l2:
				qx, qy := p[0]-b[0], p[1]-b[1]
				d = (qx*qx + qy*qy) * l2
			default:
				c := px*dy - py*dx
				d = c * c
			}
			if d > maxDist {
				maxDist, maxIndex = d, i
			}
		}
		if maxDist > tol2*l2 {
			mask[maxIndex] = 1
			stack[len(stack)-1] = maxIndex
			stack = append(stack, maxIndex, end)
		} else {
			stack = stack[:len(stack)-2]
		}
	}
	n := 0
	for i, m := range mask {
		if m == 1 {
			ls[n] = ls[i]
			n++
		}
	}
	tb.mask, tb.stack = mask, stack
	return ls[:n]
}

// simplifyPolygon simplifies each ring in place, dropping holes left with
// two points or fewer, as orb/simplify does.
func (tb *tileBuilder) simplifyPolygon(p orb.Polygon) orb.Polygon {
	n := 0
	for i, r := range p {
		r = orb.Ring(tb.simplify(r))
		if i != 0 && len(r) <= 2 {
			continue
		}
		p[n] = r
		n++
	}
	return p[:n]
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
