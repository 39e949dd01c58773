package importers

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// readGML opens a GML file of simple features for Open: a WFS 2.0
// GetFeature response (wfs:FeatureCollection of wfs:member), or GML 3.1 /
// 3.2 as ogr2ogr writes it (featureMember, featureMembers). Each feature's
// child elements with text are its properties, typed by the .xsd beside
// the file (as ogr2ogr writes one) or else inferred from all values; its
// first geometry property is its geometry, and the others are left out.
//
// The CRS comes from the first srsName in the file, or --crs. Axis order
// follows the form of the srsName, as GDAL reads and writes it: URNs and
// http://www.opengis.net/def/crs/ URIs follow the EPSG definition (latitude
// first for EPSG:4326, northing first for EPSG:2326), while "EPSG:4326"
// and no srsName at all mean x (east) first.
func readGML(path string, opts Options) ([]Source, func() error, error) {
	g := &gmlFile{path: path, opts: opts, open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		return f, nil
	}}
	if xsd, err := findSibling(path, ".xsd"); err == nil {
		if g.schema, err = readXSD(xsd); err != nil {
			slog.Warn("GML application schema unreadable: inferring the attribute types", "file", xsd, "err", err)
		}
	}
	declared, err := g.firstCRS()
	if err != nil && opts.CRS == "" {
		return nil, nil, err
	}
	if g.crs, err = sourceCRS(path, declared, opts); err != nil {
		return nil, nil, err
	}
	return []Source{{Format: FormatGML, CRS: g.crs, Features: g.features}}, func() error { return nil }, nil
}

// maxSRSSearch is how many features firstCRS reads for an srsName.
const maxSRSSearch = 1000

type gmlFile struct {
	path   string
	open   func() (io.ReadCloser, error)
	opts   Options
	schema map[string]xsdType // from the .xsd, by element name; nil without one
	crs    crs.CRS            // of geometries without an srsName, or --crs for all
}

// xsdType is the type of a feature type's element in the application
// schema: an attribute's, or a geometry's.
type xsdType struct {
	field    geo.FieldType
	geometry bool
}

// isGML reports whether a namespace is GML's: 3.2's, or 3.1's and 2's.
func isGML(space string) bool { return strings.HasPrefix(space, "http://www.opengis.net/gml") }

// isMember reports the elements whose children are features.
func isMember(local string) bool {
	return local == "member" || local == "featureMember" || local == "featureMembers"
}

// walk calls fn with every feature and the srsName of the collection's
// envelope, numbered from 1, until fn returns false.
func (g *gmlFile) walk(fn func(f *xmlNode, n int, srs string) bool) error {
	rc, err := g.open()
	if err != nil {
		return err
	}
	defer rc.Close()
	d := newXMLDecoder(rc)
	var stack []string
	var srs string // of the collection's boundedBy
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if len(stack) == 0 && n == 0 {
				return fmt.Errorf("%s: no XML elements in the file", g.path)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: after feature %d: %w", g.path, n, xmlError(d, err))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			local := tok.Name.Local
			switch {
			case len(stack) > 0 && isMember(stack[len(stack)-1]) && !strings.HasSuffix(local, "FeatureCollection"):
				f, err := readTree(d, tok)
				if err != nil {
					return fmt.Errorf("%s: feature %d: %w", g.path, n+1, xmlError(d, err))
				}
				n++
				if !fn(f, n, srs) {
					return nil
				}
			case len(stack) == 1 && local == "boundedBy":
				b, err := readTree(d, tok)
				if err != nil {
					return fmt.Errorf("%s: <boundedBy>: %w", g.path, xmlError(d, err))
				}
				if e := b.child("Envelope"); e != nil {
					srs = e.attrValue("srsName")
				}
			default:
				stack = append(stack, local)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// firstCRS finds the first srsName of the file, reading no further than
// the first feature that has one, and at most maxSRSSearch features; 0
// when there is none.
func (g *gmlFile) firstCRS() (crs.CRS, error) {
	var name string
	err := g.walk(func(f *xmlNode, n int, srs string) bool {
		name = srs
		if name == "" {
			name = firstSRSName(f)
		}
		return name == "" && n < maxSRSSearch
	})
	if name == "" {
		return 0, err
	}
	c, _, lerr := lookupSRSName(name)
	if lerr != nil {
		return 0, fmt.Errorf("%s: srsName: %w", g.path, lerr)
	}
	return c, nil
}

func firstSRSName(n *xmlNode) string {
	if s := n.attrValue("srsName"); s != "" {
		return s
	}
	for _, k := range n.kids {
		if s := firstSRSName(k); s != "" {
			return s
		}
	}
	return ""
}

// lookupSRSName finds the CRS of an srsName and whether coordinates in it
// are written north first.
func lookupSRSName(name string) (crs.CRS, bool, error) {
	s := strings.TrimSpace(name)
	lower := strings.ToLower(s)
	uri := strings.HasPrefix(lower, "urn:") || strings.HasPrefix(lower, "http://www.opengis.net/def/crs/") || strings.HasPrefix(lower, "https://www.opengis.net/def/crs/")
	switch {
	case strings.HasPrefix(lower, "urn:x-ogc:def:crs:"): // GML 3.1.1 servers
		s = "urn:ogc:def:crs:" + s[len("urn:x-ogc:def:crs:"):]
	case strings.HasPrefix(lower, "http://www.opengis.net/gml/srs/epsg.xml#"): // GML 2
		s = "EPSG:" + s[len("http://www.opengis.net/gml/srs/epsg.xml#"):]
	}
	c, err := crs.Lookup(s)
	if err != nil {
		return 0, false, err
	}
	return c, uri && c.NorthFirst(), nil
}

// features makes the two passes: the first settles the types of the
// properties the .xsd does not give, and whether the gml:ids can be kept.
func (g *gmlFile) features(yield func(geo.Feature, error) bool) {
	var s xmlSurvey
	// An error in this pass comes again in the second, after the features
	// before it.
	_ = g.walk(func(f *xmlNode, _ int, _ string) bool {
		s.ids.observe(gmlID(f))
		for _, p := range f.kids {
			if len(p.kids) == 0 && !isGML(p.name.Space) && !p.isNil() {
				s.observe(p.name.Local, p.text)
			}
		}
		return true
	})
	err := g.walk(func(f *xmlNode, n int, srs string) bool {
		feat, err := g.feature(f, &s, n, srs)
		if err != nil {
			return yield(geo.Feature{}, &FeatureError{File: g.path, Row: n, Err: err})
		}
		return yield(feat, nil)
	})
	if err != nil {
		yield(geo.Feature{}, err)
	}
}

// gmlID is a feature's gml:id, or GML 2's fid.
func gmlID(f *xmlNode) string {
	if id := f.attrValue("id"); id != "" {
		return id
	}
	return f.attrValue("fid")
}

// feature converts one feature element.
func (g *gmlFile) feature(f *xmlNode, s *xmlSurvey, n int, srs string) (geo.Feature, error) {
	if b := f.child("boundedBy"); b != nil && b.child("Envelope") != nil && b.child("Envelope").attrValue("srsName") != "" {
		srs = b.child("Envelope").attrValue("srsName")
	}
	props := map[string]any{}
	var geom orb.Geometry
	for _, p := range f.kids {
		name := p.name.Local
		decl := g.schema[name]
		switch {
		case isGML(p.name.Space): // gml:boundedBy, gml:name, gml:description
		case p.isNil() && decl.geometry:
		case p.isNil():
			props[name] = nil
		case len(p.kids) == 0:
			if decl.geometry {
				continue
			}
			v, err := xmlValue(p.text, s.fieldType(name, decl.field, false))
			if err != nil {
				return geo.Feature{}, fmt.Errorf("<%s>: %w", name, err)
			}
			props[name] = v
		case geom == nil && isGML(p.kids[0].name.Space):
			c, err := g.geometry(p.kids[0], gmlCtx{srs: srs}, 0)
			if err != nil {
				return geo.Feature{}, fmt.Errorf("<%s>: %w", name, err)
			}
			geom, err = g.toWGS84(c)
			if err != nil {
				return geo.Feature{}, fmt.Errorf("<%s>: %w", name, err)
			}
		}
	}
	if geom == nil {
		return geo.Feature{}, errors.New("no geometry")
	}
	return geo.Feature{ID: s.featureID(gmlID(f), n), Geometry: geom, Properties: props}, nil
}

// gmlGeometry is a geometry as read, in the axis order fixed to east
// first, with the srsName it is in.
type gmlGeometry struct {
	g   orb.Geometry
	srs string
}

func (g *gmlFile) toWGS84(c gmlGeometry) (orb.Geometry, error) {
	from := g.crs
	if c.srs != "" && g.opts.CRS == "" {
		var err error
		if from, _, err = lookupSRSName(c.srs); err != nil {
			return nil, fmt.Errorf("srsName: %w", err)
		}
	}
	return toWGS84(from, c.g)
}

// gmlCtx is what a geometry element inherits from the elements around it.
type gmlCtx struct {
	srs string // srsName
	dim int    // srsDimension; 0 when not given
}

func (c gmlCtx) with(n *xmlNode) (gmlCtx, error) {
	if s := n.attrValue("srsName"); s != "" {
		c.srs = s
	}
	if d := n.attrValue("srsDimension"); d != "" {
		v, err := strconv.Atoi(strings.TrimSpace(d))
		if err != nil || v < 1 || v > 4 {
			return c, fmt.Errorf("<%s>: srsDimension %q is not 1 to 4", n.name.Local, d)
		}
		c.dim = v
	}
	return c, nil
}

// geometry reads a GML geometry element.
func (g *gmlFile) geometry(n *xmlNode, ctx gmlCtx, depth int) (gmlGeometry, error) {
	ctx, err := ctx.with(n)
	if err != nil {
		return gmlGeometry{}, err
	}
	geom, err := g.geom(n, ctx, depth)
	return gmlGeometry{g: geom, srs: ctx.srs}, err
}

func (g *gmlFile) geom(n *xmlNode, ctx gmlCtx, depth int) (orb.Geometry, error) {
	if !isGML(n.name.Space) {
		return nil, fmt.Errorf("<%s> is not a GML geometry", n.name.Local)
	}
	if depth > 16 {
		return nil, errors.New("geometry nested too deeply")
	}
	switch n.name.Local {
	case "Point":
		ps, err := g.positions(n, ctx)
		if err != nil {
			return nil, err
		}
		if len(ps) != 1 {
			return nil, fmt.Errorf("<Point> with %d positions", len(ps))
		}
		return ps[0], nil
	case "LineString", "LineStringSegment":
		ps, err := g.positions(n, ctx)
		return orb.LineString(ps), err
	case "LinearRing":
		ps, err := g.positions(n, ctx)
		return orb.Ring(ps), err
	case "Curve", "Ring", "CompositeCurve":
		// Rings and composites are curves end to end; a Curve is its
		// segments end to end.
		var parts []*xmlNode
		if s := n.child("segments"); s != nil && n.name.Local == "Curve" {
			parts = s.kids
		} else {
			parts = memberGeometries(n, "curveMember")
		}
		var line orb.LineString
		for _, p := range parts {
			if p.name.Local != "LineStringSegment" && p.name.Local != "LineString" && p.name.Local != "Curve" {
				return nil, fmt.Errorf("<%s> in a <%s> is not supported: only straight line segments are", p.name.Local, n.name.Local)
			}
			m, err := g.member(p, ctx, depth)
			if err != nil {
				return nil, err
			}
			ls := m.(orb.LineString)
			if len(line) > 0 && len(ls) > 0 && line[len(line)-1] == ls[0] {
				ls = ls[1:]
			}
			line = append(line, ls...)
		}
		switch {
		case len(line) == 0:
			return nil, fmt.Errorf("<%s> without segments", n.name.Local)
		case n.name.Local == "Ring":
			return orb.Ring(line), nil
		}
		return line, nil
	case "Polygon", "PolygonPatch":
		var p orb.Polygon
		for _, b := range n.kids {
			outer := b.name.Local == "exterior" || b.name.Local == "outerBoundaryIs"
			if !outer && b.name.Local != "interior" && b.name.Local != "innerBoundaryIs" {
				continue
			}
			if outer != (len(p) == 0) {
				return nil, fmt.Errorf("<%s> must have one exterior, before its interiors", n.name.Local)
			}
			if len(b.kids) != 1 {
				return nil, fmt.Errorf("<%s> holds %d rings", b.name.Local, len(b.kids))
			}
			r, err := g.member(b.kids[0], ctx, depth)
			if err != nil {
				return nil, err
			}
			ring, ok := r.(orb.Ring)
			if !ok {
				return nil, fmt.Errorf("<%s> in <%s> is not a ring", b.kids[0].name.Local, b.name.Local)
			}
			p = append(p, ring)
		}
		if len(p) == 0 {
			return nil, fmt.Errorf("<%s> without an exterior", n.name.Local)
		}
		return p, nil
	case "Surface", "CompositeSurface", "MultiSurface", "MultiPolygon":
		var parts []*xmlNode
		if ps := n.child("patches"); ps != nil && n.name.Local == "Surface" {
			parts = ps.kids
		} else {
			parts = memberGeometries(n, "surfaceMember", "polygonMember")
		}
		var mp orb.MultiPolygon
		for _, p := range parts {
			m, err := g.member(p, ctx, depth)
			if err != nil {
				return nil, err
			}
			switch m := m.(type) {
			case orb.Polygon:
				mp = append(mp, m)
			case orb.MultiPolygon:
				mp = append(mp, m...)
			default:
				return nil, fmt.Errorf("<%s> in a <%s> is not a surface", p.name.Local, n.name.Local)
			}
		}
		if n.name.Local == "Surface" && len(mp) == 1 {
			return mp[0], nil
		}
		return mp, nil
	case "MultiCurve", "MultiLineString":
		var ml orb.MultiLineString
		for _, p := range memberGeometries(n, "curveMember", "lineStringMember") {
			m, err := g.member(p, ctx, depth)
			if err != nil {
				return nil, err
			}
			switch m := m.(type) {
			case orb.LineString:
				ml = append(ml, m)
			case orb.MultiLineString:
				ml = append(ml, m...)
			default:
				return nil, fmt.Errorf("<%s> in a <%s> is not a curve", p.name.Local, n.name.Local)
			}
		}
		return ml, nil
	case "MultiPoint":
		var mp orb.MultiPoint
		for _, p := range memberGeometries(n, "pointMember") {
			m, err := g.member(p, ctx, depth)
			if err != nil {
				return nil, err
			}
			pt, ok := m.(orb.Point)
			if !ok {
				return nil, fmt.Errorf("<%s> in a <MultiPoint> is not a point", p.name.Local)
			}
			mp = append(mp, pt)
		}
		return mp, nil
	case "MultiGeometry":
		var parts []orb.Geometry
		for _, p := range memberGeometries(n, "geometryMember") {
			m, err := g.member(p, ctx, depth)
			if err != nil {
				return nil, err
			}
			parts = append(parts, m)
		}
		return combine(parts)
	}
	return nil, fmt.Errorf("GML geometry <%s> is not supported", n.name.Local)
}

// member reads a geometry inside another, which passes on its srsName
// and srsDimension.
func (g *gmlFile) member(n *xmlNode, ctx gmlCtx, depth int) (orb.Geometry, error) {
	ctx, err := ctx.with(n)
	if err != nil {
		return nil, err
	}
	return g.geom(n, ctx, depth+1)
}

// memberGeometries lists the geometries in the member elements of a
// collection: "surfaceMember" holds one, "surfaceMembers" several.
func memberGeometries(n *xmlNode, members ...string) []*xmlNode {
	var out []*xmlNode
	for _, k := range n.kids {
		for _, m := range members {
			if k.name.Local == m || k.name.Local == m+"s" {
				out = append(out, k.kids...)
			}
		}
	}
	return out
}

// positions reads the coordinates of a Point, LineString or LinearRing in
// any of GML's forms: posList, pos elements, GML 2's coordinates and coord,
// or Points in pointProperty elements.
func (g *gmlFile) positions(n *xmlNode, ctx gmlCtx) ([]orb.Point, error) {
	var ps []orb.Point
	for _, k := range n.kids {
		kctx, err := ctx.with(k)
		if err != nil {
			return nil, err
		}
		switch k.name.Local {
		case "posList":
			dim := kctx.dim
			if c := k.attrValue("count"); c != "" && dim == 0 {
				// GML 3.1 writers give count instead of srsDimension.
				if cnt, err := strconv.Atoi(c); err == nil && cnt > 0 {
					dim = len(strings.Fields(k.text)) / cnt
				}
			}
			pts, err := g.numbers(k.text, max(dim, 2), kctx)
			if err != nil {
				return nil, err
			}
			ps = append(ps, pts...)
		case "pos":
			fields := strings.Fields(k.text)
			dim := kctx.dim
			if dim == 0 {
				dim = len(fields)
			}
			if len(fields) != dim || dim < 2 {
				return nil, fmt.Errorf("<pos> %.60q does not hold one position", k.text)
			}
			pts, err := g.numbers(k.text, dim, kctx)
			if err != nil {
				return nil, err
			}
			ps = append(ps, pts...)
		case "coordinates":
			pts, err := g.coordinates(k, kctx)
			if err != nil {
				return nil, err
			}
			ps = append(ps, pts...)
		case "coord":
			x, y := k.child("X"), k.child("Y")
			if x == nil || y == nil {
				return nil, errors.New("<coord> without X and Y")
			}
			pts, err := g.numbers(x.text+" "+y.text, 2, gmlCtx{})
			if err != nil {
				return nil, err
			}
			ps = append(ps, pts...)
		case "pointProperty", "pointRep":
			for _, p := range k.kids {
				m, err := g.member(p, kctx, 0)
				if err != nil {
					return nil, err
				}
				pt, ok := m.(orb.Point)
				if !ok {
					return nil, fmt.Errorf("<%s> does not hold a Point", k.name.Local)
				}
				ps = append(ps, pt)
			}
		}
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("<%s> without coordinates", n.name.Local)
	}
	return ps, nil
}

// numbers reads white-space separated numbers as positions of dim
// coordinates, keeping x and y in east-first order.
func (g *gmlFile) numbers(text string, dim int, ctx gmlCtx) ([]orb.Point, error) {
	fields := strings.Fields(text)
	if len(fields)%dim != 0 {
		return nil, fmt.Errorf("%d numbers do not make positions of %d coordinates", len(fields), dim)
	}
	swap := g.northFirst(ctx.srs)
	ps := make([]orb.Point, 0, len(fields)/dim)
	for i := 0; i < len(fields); i += dim {
		var p orb.Point
		for j := range 2 {
			v, err := strconv.ParseFloat(fields[i+j], 64)
			if err != nil {
				return nil, fmt.Errorf("coordinate %.40q is not a number", fields[i+j])
			}
			p[j] = v
		}
		if swap {
			p[0], p[1] = p[1], p[0]
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// coordinates reads GML 2's <coordinates>, whose separators its cs, ts and
// decimal attributes may change from ",", " " and ".".
func (g *gmlFile) coordinates(n *xmlNode, ctx gmlCtx) ([]orb.Point, error) {
	cs, ts, dec := n.attrValue("cs"), n.attrValue("ts"), n.attrValue("decimal")
	if cs == "" {
		cs = ","
	}
	if dec == "" {
		dec = "."
	}
	if cs == dec || cs == ts {
		return nil, fmt.Errorf("<coordinates>: the separators cs=%q, ts=%q and decimal=%q clash", cs, ts, dec)
	}
	text := n.text
	if ts != "" && strings.TrimSpace(ts) != "" {
		text = strings.ReplaceAll(text, ts, " ")
	}
	if dec != "." {
		text = strings.ReplaceAll(text, dec, ".")
	}
	var nums []string
	dim := 0
	for _, tuple := range strings.Fields(joinCommas(strings.ReplaceAll(text, cs, ","))) {
		parts := strings.Split(tuple, ",")
		if dim == 0 {
			dim = len(parts)
		}
		if len(parts) != dim || dim < 2 {
			return nil, fmt.Errorf("<coordinates>: tuple %.40q", tuple)
		}
		nums = append(nums, parts...)
	}
	if dim == 0 {
		return nil, errors.New("empty <coordinates>")
	}
	return g.numbers(strings.Join(nums, " "), dim, ctx)
}

// northFirst reports whether coordinates in an srsName are written north
// first. With --crs, the srsName's form still tells the axis order.
func (g *gmlFile) northFirst(srs string) bool {
	if srs == "" {
		return false
	}
	lower := strings.ToLower(strings.TrimSpace(srs))
	uri := strings.HasPrefix(lower, "urn:") || strings.Contains(lower, "opengis.net/def/crs/")
	if g.opts.CRS != "" {
		return uri && g.crs.NorthFirst()
	}
	_, nf, err := lookupSRSName(srs)
	return err == nil && nf
}

// maxXSD bounds the size of an application schema.
const maxXSD = 16 << 20

// readXSD reads the element types of a GML application schema, as ogr2ogr
// writes it: <xs:element name="..." type="xs:date"/>, or a simpleType
// restricting a base type, or a gml:...PropertyType for geometries.
func readXSD(path string) (map[string]xsdType, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := newXMLDecoder(io.LimitReader(f, maxXSD))
	var root *xmlNode
	for root == nil {
		tok, err := d.Token()
		if err != nil {
			return nil, xmlError(d, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root, err = readTree(d, se); err != nil {
				return nil, xmlError(d, err)
			}
		}
	}
	types := map[string]xsdType{}
	var visit func(n *xmlNode)
	visit = func(n *xmlNode) {
		if n.name.Local == "element" && n.attrValue("name") != "" {
			name := n.attrValue("name")
			base := n.attrValue("type")
			if st := n.child("simpleType"); base == "" && st != nil && st.child("restriction") != nil {
				base = st.child("restriction").attrValue("base")
			}
			if _, seen := types[name]; !seen && base != "" {
				types[name] = xsdTypeOf(base)
			}
		}
		for _, k := range n.kids {
			visit(k)
		}
	}
	visit(root)
	return types, nil
}

// xsdTypeOf maps an XML Schema type name onto the feature model.
func xsdTypeOf(qname string) xsdType {
	prefix, local, ok := strings.Cut(qname, ":")
	if !ok {
		local, prefix = prefix, ""
	}
	if prefix == "gml" || strings.HasSuffix(local, "PropertyType") {
		return xsdType{geometry: true}
	}
	switch local {
	case "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
		"unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte":
		return xsdType{field: geo.Integer}
	case "decimal", "double", "float":
		return xsdType{field: geo.Number}
	case "boolean":
		return xsdType{field: geo.Boolean}
	case "date":
		return xsdType{field: geo.Date}
	case "dateTime":
		return xsdType{field: geo.DateTime}
	}
	return xsdType{field: geo.String}
}
