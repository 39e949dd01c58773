package crs

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// FromWKT recognises a supported CRS in OGC WKT1, ESRI WKT (a shapefile's
// .prj) or WKT2 (2015 or 2019), as GDAL and ArcGIS write them.
//
// It reads the definition, not just the name: the datum, the projection
// method and its parameters, and the units, so a CRS that only looks like a
// supported one (World Mercator, ED50 on the same ellipsoid as HK1980, a
// grid in feet) is an error rather than silently wrong coordinates. A
// top-level EPSG or OGC identifier that contradicts the definition is an
// error too; one that agrees picks between EPSG:4326 and OGC:CRS84, which
// share a definition. Without one, WGS 84 geographic is EPSG:4326 unless its
// axes put longitude first.
//
// HK1980 always shifts to WGS 84 by EPSG:1825, whatever TOWGS84 clause the
// WKT has. A datum with another name is HK1980 if it has the International
// 1924 ellipsoid and EPSG:1825 as its TOWGS84 or BOUNDCRS transformation, as
// GDAL writes for the PROJ string with +towgs84; GDAL's ESRI WKT for that
// string keeps the parameters only in the datum's name and is refused.
// Compound CRSs are read through to their horizontal CRS.
func FromWKT(wkt string) (CRS, error) {
	root, err := parseWKT(wkt)
	if err != nil {
		return 0, fmt.Errorf("crs: WKT %.60q: %w", wkt, err)
	}
	c, err := classify(root)
	if err != nil {
		return 0, fmt.Errorf("crs: WKT %.60q: %w", wkt, err)
	}
	return c, nil
}

// node is a WKT element KEYWORD[arg, ...]; a leaf (a quoted string, a number
// or an enumeration word such as NORTH) has no key.
type node struct {
	key  string // upper case
	text string
	args []*node
}

const maxDepth = 32

func parseWKT(s string) (*node, error) {
	p := wktParser{s: s}
	n, err := p.element(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i)
	}
	if n.key == "" {
		return nil, errors.New("not a WKT CRS")
	}
	return n, nil
}

type wktParser struct {
	s string
	i int
}

func (p *wktParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
	// A .prj saved by a Windows editor may start with a UTF-8 BOM.
	if strings.HasPrefix(p.s[p.i:], "\ufeff") {
		p.i += len("\ufeff")
		p.space()
	}
}

func (p *wktParser) element(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	if p.s[p.i] == '"' {
		return p.quoted()
	}
	start := p.i
	for p.i < len(p.s) && strings.IndexByte(",[]() \t\r\n\"", p.s[p.i]) < 0 {
		p.i++
	}
	word := p.s[start:p.i]
	if word == "" {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i)
	}
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '[' && p.s[p.i] != '(') {
		return &node{text: word}, nil
	}
	open := p.s[p.i]
	p.i++
	n := &node{key: strings.ToUpper(word)}
	for {
		a, err := p.element(depth + 1)
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, a)
		p.space()
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("%s: unexpected end", n.key)
		}
		switch c := p.s[p.i]; {
		case c == ',':
			p.i++
		case c == ']' && open == '[', c == ')' && open == '(':
			p.i++
			return n, nil
		default:
			return nil, fmt.Errorf("%s: unexpected %q at offset %d", n.key, c, p.i)
		}
	}
}

// quoted reads a WKT string, in which "" stands for one quote.
func (p *wktParser) quoted() (*node, error) {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		if p.s[p.i] != '"' {
			b.WriteByte(p.s[p.i])
			continue
		}
		if p.i+1 < len(p.s) && p.s[p.i+1] == '"' {
			b.WriteByte('"')
			p.i++
			continue
		}
		p.i++
		return &node{text: b.String()}, nil
	}
	return nil, errors.New("unterminated string")
}

// child returns the first argument with one of the keys, or nil.
func (n *node) child(keys ...string) *node {
	for _, a := range n.args {
		for _, k := range keys {
			if a.key == k {
				return a
			}
		}
	}
	return nil
}

// name is the first argument's text, the name of most WKT elements.
func (n *node) name() string {
	if n == nil || len(n.args) == 0 {
		return ""
	}
	return n.args[0].text
}

// number parses argument i, or returns NaN.
func (n *node) number(i int) float64 {
	if n == nil || i >= len(n.args) || n.args[i].key != "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(n.args[i].text, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// norm reduces a WKT name to lower-case letters and digits, so that the OGC
// "Hong Kong 1980", the GDAL "Hong_Kong_1980" and the ESRI "D_Hong_Kong_1980"
// compare equal.
func norm(s string) string {
	s = strings.TrimPrefix(s, "D_")
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	geographicKeys = []string{"GEOGCS", "GEOGCRS", "GEOGRAPHICCRS", "GEODCRS", "GEODETICCRS", "BASEGEOGCRS", "BASEGEODCRS"}
	projectedKeys  = []string{"PROJCS", "PROJCRS", "PROJECTEDCRS"}
)

func isOneOf(key string, keys []string) bool { return slices.Contains(keys, key) }

func classify(n *node) (CRS, error) {
	// Read through wrappers to the horizontal CRS.
	var shift *node // a WKT2 BOUNDCRS's transformation to WGS 84
	for {
		switch n.key {
		case "BOUNDCRS":
			src := n.child("SOURCECRS")
			if src == nil || len(src.args) == 0 {
				return 0, errors.New("BOUNDCRS without SOURCECRS")
			}
			shift = n.child("ABRIDGEDTRANSFORMATION")
			n = src.args[0]
			continue
		case "COMPD_CS", "COMPOUNDCRS":
			h := n.child(slices.Concat(projectedKeys, geographicKeys)...)
			if h == nil {
				return 0, fmt.Errorf("%s without a horizontal CRS", n.key)
			}
			n = h
			continue
		}
		break
	}

	var got CRS
	var err error
	switch {
	case isOneOf(n.key, geographicKeys):
		got, err = geographic(n, shift)
	case isOneOf(n.key, projectedKeys):
		got, err = projected(n, shift)
	default:
		return 0, fmt.Errorf("%s is not a geographic or projected CRS", n.key)
	}
	if err != nil {
		return 0, fmt.Errorf("%q: %w", n.name(), err)
	}
	if err := checkUnits(n, isOneOf(n.key, geographicKeys)); err != nil {
		return 0, fmt.Errorf("%q: %w", n.name(), err)
	}

	id := n.child("AUTHORITY", "ID")
	if id == nil || len(id.args) < 2 {
		return got, nil
	}
	said, err := Lookup(id.args[0].text + ":" + id.args[1].text)
	if err != nil {
		return 0, fmt.Errorf("%q is identified as %s:%s, which is not supported, but is defined like %s",
			n.name(), id.args[0].text, id.args[1].text, got)
	}
	if said == got || isLonLat(said) && isLonLat(got) {
		return said, nil
	}
	return 0, fmt.Errorf("%q is identified as %s but is defined like %s", n.name(), said, got)
}

// isLonLat reports whether c is WGS 84 geographic, which EPSG:4326 and
// OGC:CRS84 define alike but for the axis order.
func isLonLat(c CRS) bool { return c == CRS84 || c == WGS84 }

// datum returns the normalised datum name of a geographic CRS element.
func datum(geog *node) string {
	return norm(geog.child("DATUM", "GEODETICDATUM", "TRF", "ENSEMBLE").name())
}

func isWGS84(datum string) bool {
	switch datum {
	case "wgs1984", "wgs84", "worldgeodeticsystem1984", "worldgeodeticsystem1984ensemble":
		return true
	}
	return false
}

const hk1980Datum = "hongkong1980"

func geographic(n, shift *node) (CRS, error) {
	if cs := n.child("CS"); cs != nil && !strings.EqualFold(cs.name(), "ellipsoidal") {
		return 0, fmt.Errorf("coordinate system is %s, not ellipsoidal", cs.name())
	}
	if pm := n.child("PRIMEM"); pm != nil && pm.number(1) != 0 {
		return 0, fmt.Errorf("prime meridian %q is not Greenwich", pm.name())
	}
	d := datum(n)
	switch {
	case d == hk1980Datum || isHK1980Shift(n, shift):
		return HK1980, nil
	case isWGS84(d):
		if ax := n.child("AXIS"); ax != nil && lonFirst(ax) {
			return CRS84, nil
		}
		return WGS84, nil
	}
	return 0, fmt.Errorf("datum %q is not WGS 84 or Hong Kong 1980", d)
}

// isHK1980Shift recognises HK1980 under another name, as GDAL writes it for
// a PROJ string with +towgs84: the International 1924 ellipsoid and EPSG:1825
// as a WKT1 TOWGS84 clause or a WKT2 BOUNDCRS transformation.
func isHK1980Shift(geog, shift *node) bool {
	dat := geog.child("DATUM", "GEODETICDATUM")
	if dat == nil {
		return false
	}
	ell := dat.child("SPHEROID", "ELLIPSOID")
	if ell.number(1) != intl1924.a || ell.number(2) != intl1924.invf {
		return false
	}
	var v [7]float64 // Position Vector, rotations in arc seconds, scale in ppm
	if tw := dat.child("TOWGS84"); tw != nil {
		for i := range v {
			v[i] = tw.number(i)
		}
	} else if shift != nil {
		method := norm(shift.child("METHOD").name())
		cf := strings.Contains(method, "coordinateframe")
		if !cf && !strings.Contains(method, "positionvector") {
			return false
		}
		names := []string{"xaxistranslation", "yaxistranslation", "zaxistranslation",
			"xaxisrotation", "yaxisrotation", "zaxisrotation", "scaledifference"}
		for i := range v {
			v[i] = math.NaN()
		}
		for _, p := range shift.args {
			if i := slices.Index(names, norm(p.name())); p.key == "PARAMETER" && i >= 0 {
				v[i] = p.number(1)
			}
		}
		if cf {
			v[3], v[4], v[5] = -v[3], -v[4], -v[5]
		}
		// PROJ writes the scale difference as a ratio without a unit.
		if math.Abs(v[6]-1) < 1e-3 {
			v[6] = (v[6] - 1) * 1e6
		}
	} else {
		return false
	}
	want := [7]float64{-162.619, -276.959, -161.764, 0.067753, -2.243648, -1.158828, -1.094246}
	for i := range v {
		if !(math.Abs(v[i]-want[i]) < 1e-6) {
			return false
		}
	}
	return true
}

// lonFirst reports whether a first AXIS element is the longitude: WKT1
// AXIS["Longitude",EAST], WKT2 AXIS["geodetic longitude (Lon)",east].
func lonFirst(ax *node) bool {
	return len(ax.args) > 1 && strings.EqualFold(ax.args[1].text, "east")
}

func projected(n, shift *node) (CRS, error) {
	base := n.child(geographicKeys...)
	if base == nil {
		return 0, errors.New("no base geographic CRS")
	}
	g, err := geographic(base, shift)
	if err != nil {
		return 0, err
	}
	d := datum(base)
	if g == HK1980 {
		d = hk1980Datum
	}
	// WKT1 puts PROJECTION and PARAMETERs in PROJCS, WKT2 in CONVERSION.
	conv := n
	method := n.child("PROJECTION")
	if c := n.child("CONVERSION", "DERIVINGCONVERSION"); c != nil {
		conv, method = c, c.child("METHOD", "PROJECTION")
	}
	m := norm(method.name())
	params := map[string]float64{}
	for _, a := range conv.args {
		if a.key == "PARAMETER" {
			params[paramKey(norm(a.name()))] = a.number(1)
		}
	}
	// Absent parameters take the WKT defaults.
	get := func(k string, def float64) float64 {
		if v, ok := params[k]; ok {
			return v
		}
		return def
	}
	near := func(k string, def, want, tol float64) bool {
		return math.Abs(get(k, def)-want) <= tol
	}
	const degTol, mTol = 1e-8, 1e-3 // about 1 mm each

	switch {
	case d == hk1980Datum && m == "transversemercator":
		if near("lat0", 0, 22+18.0/60+43.68/3600, degTol) &&
			near("lon0", 0, 114+10.0/60+42.80/3600, degTol) &&
			near("k", 1, 1, 1e-9) &&
			near("fe", 0, 836694.05, mTol) && near("fn", 0, 819069.80, mTol) {
			return HK1980Grid, nil
		}
		return 0, fmt.Errorf("Transverse Mercator on Hong Kong 1980 with parameters %v is not the Hong Kong 1980 Grid", params)
	case isWGS84(d) && isWebMercator(n, m):
		if near("lat0", 0, 0, degTol) && near("lon0", 0, 0, degTol) && near("lat_ts", 0, 0, degTol) &&
			near("k", 1, 1, 1e-9) && near("fe", 0, 0, mTol) && near("fn", 0, 0, mTol) && near("aux", 0, 0, 0) {
			return WebMercator, nil
		}
		return 0, fmt.Errorf("Web Mercator with parameters %v is not EPSG:3857", params)
	}
	return 0, fmt.Errorf("projection %q on datum %q is not supported", method.name(), d)
}

// isWebMercator tells the spherical Web Mercator from the ellipsoidal
// Mercator, which WKT1 and ESRI name alike ("Mercator_1SP") and which is
// 20 km off at Hong Kong's latitude.
func isWebMercator(n *node, method string) bool {
	switch method {
	case "popularvisualisationpseudomercator", "mercatorauxiliarysphere":
		return true
	case "mercator1sp", "mercator", "mercatorvarianta":
		name := norm(n.name())
		for _, s := range []string{"pseudomercator", "webmercator", "popularvisualisation", "googlemaps"} {
			if strings.Contains(name, s) {
				return true
			}
		}
		if ext := n.child("EXTENSION"); ext != nil && len(ext.args) > 1 {
			return strings.Contains(ext.args[1].text, "+a=6378137 +b=6378137")
		}
	}
	return false
}

// paramKey maps normalised WKT1, ESRI and WKT2 parameter names to short keys.
func paramKey(name string) string {
	switch name {
	case "latitudeoforigin", "latitudeofnaturalorigin", "latitudeofcenter":
		return "lat0"
	case "centralmeridian", "longitudeofnaturalorigin", "longitudeofcenter", "longitudeoforigin":
		return "lon0"
	case "scalefactor", "scalefactoratnaturalorigin":
		return "k"
	case "falseeasting":
		return "fe"
	case "falsenorthing":
		return "fn"
	case "standardparallel1", "latitudeof1ststandardparallel":
		return "lat_ts"
	case "auxiliaryspheretype":
		return "aux"
	}
	return name
}

// checkUnits rejects units other than the degree and the metre, in which
// the transforms and the parameter checks above are written.
func checkUnits(n *node, angular bool) error {
	for _, a := range n.args {
		if a.key == "" {
			continue
		}
		want := 0.0
		switch {
		case a.key == "ANGLEUNIT" || a.key == "UNIT" && angular:
			want = math.Pi / 180
		case a.key == "LENGTHUNIT" || a.key == "UNIT" || a.key == "SCALEUNIT":
			want = 1
		}
		if want != 0 {
			if f := a.number(1); math.Abs(f-want) > want*1e-9 {
				return fmt.Errorf("%s %q with factor %v where the degree or the metre is expected", a.key, a.name(), f)
			}
			continue
		}
		sub := angular
		if isOneOf(a.key, geographicKeys) {
			sub = true
		}
		if err := checkUnits(a, sub); err != nil {
			return err
		}
	}
	return nil
}
