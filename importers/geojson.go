package importers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// GeoJSON streams the features of an RFC 7946 document: a FeatureCollection
// (its features array is read one feature at a time, so the file's size does
// not matter), a single Feature, or newline-delimited Features. name labels
// errors.
//
// Ids: when the first feature has a positive integer "id", every feature
// must have a distinct one and they are kept; otherwise features are numbered
// 1, 2, 3... in file order, so re-importing the same file gives the same ids.
func GeoJSON(r io.Reader, name string) iter.Seq2[geo.Feature, error] {
	return geojsonFeatures(r, name, 0)
}

// geojsonFeatures is GeoJSON for coordinates in c, converted to WGS84; 0
// means longitude/latitude.
func geojsonFeatures(r io.Reader, name string, c crs.CRS) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		g := geojsonReader{dec: json.NewDecoder(bufio.NewReaderSize(r, 1<<16)), name: name, crs: c}
		g.dec.UseNumber()
		g.run(yield)
	}
}

type geojsonReader struct {
	dec  *json.Decoder
	name string
	crs  crs.CRS // of the coordinates; 0 for longitude/latitude
	n    int     // features read
	keep bool    // use the source ids
}

func (g *geojsonReader) errf(format string, a ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{g.name}, a...)...)
}

func (g *geojsonReader) run(yield func(geo.Feature, error) bool) {
	tok, err := g.dec.Token()
	if err != nil {
		yield(geo.Feature{}, g.errf("not JSON: %w", err))
		return
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		yield(geo.Feature{}, g.errf("not GeoJSON: the document must be a JSON object"))
		return
	}
	// The top level is read key by key, so that a "features" array is
	// streamed wherever it stands; other members are kept raw in case the
	// object turns out to be a single Feature.
	var typ string
	members := map[string]json.RawMessage{}
	sawFeatures := false
	for g.dec.More() {
		key, err := g.dec.Token()
		if err != nil {
			yield(geo.Feature{}, g.errf("reading the top-level object: %w", err))
			return
		}
		switch key {
		case "features":
			sawFeatures = true
			if !g.streamFeatures(yield) {
				return
			}
		case "type":
			if err := g.dec.Decode(&typ); err != nil {
				yield(geo.Feature{}, g.errf("reading \"type\": %w", err))
				return
			}
		default:
			var raw json.RawMessage
			if err := g.dec.Decode(&raw); err != nil {
				yield(geo.Feature{}, g.errf("reading %q: %w", key, err))
				return
			}
			members[key.(string)] = raw
		}
	}
	if _, err := g.dec.Token(); err != nil {
		yield(geo.Feature{}, g.errf("truncated document: %w", err))
		return
	}
	switch {
	case typ == "FeatureCollection" && sawFeatures:
	case typ == "FeatureCollection":
		yield(geo.Feature{}, g.errf("FeatureCollection without a \"features\" array"))
		return
	case typ == "Feature":
		var f rawFeature
		f.ID, f.Geometry = members["id"], members["geometry"]
		if p := members["properties"]; len(p) > 0 {
			if err := decodeNumbers(p, &f.Properties); err != nil {
				yield(geo.Feature{}, g.errf("feature 1: properties: %w", err))
				return
			}
		}
		if !g.emit(f, yield) {
			return
		}
		// Newline-delimited GeoJSON: more Features follow the first.
		for g.dec.More() {
			var f rawFeature
			if err := g.dec.Decode(&f); err != nil {
				yield(geo.Feature{}, g.errf("feature %d: %w", g.n+1, err))
				return
			}
			if f.Type != "Feature" {
				yield(geo.Feature{}, g.errf("feature %d: type is %q, want \"Feature\"", g.n+1, f.Type))
				return
			}
			if !g.emit(f, yield) {
				return
			}
		}
	case typ == "":
		yield(geo.Feature{}, g.errf("not GeoJSON: no \"type\" member"))
		return
	default:
		yield(geo.Feature{}, g.errf("GeoJSON type %q is not a Feature or FeatureCollection", typ))
		return
	}
	if _, err := g.dec.Token(); err != io.EOF {
		yield(geo.Feature{}, g.errf("unexpected data after the GeoJSON document"))
	}
}

type rawFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties map[string]any  `json:"properties"`
}

func (g *geojsonReader) streamFeatures(yield func(geo.Feature, error) bool) bool {
	tok, err := g.dec.Token()
	if err != nil {
		return yield(geo.Feature{}, g.errf("reading \"features\": %w", err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		yield(geo.Feature{}, g.errf("\"features\" must be an array"))
		return false
	}
	for g.dec.More() {
		var f rawFeature
		if err := g.dec.Decode(&f); err != nil {
			yield(geo.Feature{}, g.errf("feature %d: %w", g.n+1, err))
			return false
		}
		if f.Type != "Feature" {
			yield(geo.Feature{}, g.errf("feature %d: type is %q, want \"Feature\"", g.n+1, f.Type))
			return false
		}
		if !g.emit(f, yield) {
			return false
		}
	}
	if _, err := g.dec.Token(); err != nil {
		yield(geo.Feature{}, g.errf("truncated \"features\" array after feature %d: %w", g.n, err))
		return false
	}
	return true
}

// emit converts one raw feature and yields it; false means stop.
func (g *geojsonReader) emit(rf rawFeature, yield func(geo.Feature, error) bool) bool {
	g.n++
	f, err := g.convert(rf)
	if err != nil {
		yield(geo.Feature{}, g.errf("feature %d: %w", g.n, err))
		return false
	}
	return yield(f, nil)
}

func (g *geojsonReader) convert(rf rawFeature) (geo.Feature, error) {
	id, hasID := positiveID(rf.ID)
	if g.n == 1 {
		g.keep = hasID
	}
	switch {
	case g.keep && !hasID:
		return geo.Feature{}, fmt.Errorf("\"id\" %s is not a positive integer, but the first feature's id was (all or none must have one)", orNone(rf.ID))
	case !g.keep:
		id = uint64(g.n)
	}
	if len(rf.Geometry) == 0 || string(rf.Geometry) == "null" {
		return geo.Feature{}, errors.New("no geometry")
	}
	gg, err := geojson.UnmarshalGeometry(rf.Geometry)
	if err != nil {
		return geo.Feature{}, fmt.Errorf("geometry: %w", err)
	}
	geom, err := toWGS84(g.crs, gg.Geometry())
	if err != nil {
		return geo.Feature{}, err
	}
	props, err := convertProperties(rf.Properties)
	if err != nil {
		return geo.Feature{}, err
	}
	return geo.Feature{ID: id, Geometry: geom, Properties: props}, nil
}

func orNone(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(none)"
	}
	return string(raw)
}

func positiveID(raw json.RawMessage) (uint64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	id, err := strconv.ParseUint(string(raw), 10, 64)
	return id, err == nil && id > 0
}

// CheckLonLat refuses coordinates that are not finite WGS84 longitudes and
// latitudes. Hong Kong 1980 Grid metres passed off as degrees are the common
// mistake, so the error names that CRS when the numbers look like it.
func CheckLonLat(g orb.Geometry) error {
	var bad error
	forEachPoint(g, func(p orb.Point) bool {
		x, y := p[0], p[1]
		switch {
		case math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0):
			bad = fmt.Errorf("coordinate (%g, %g) is not a finite number", x, y)
		case x >= 800000 && x <= 870000 && y >= 800000 && y <= 850000:
			bad = fmt.Errorf("coordinate (%g, %g) is not longitude/latitude: it looks like Hong Kong 1980 Grid metres (EPSG:2326)", x, y)
		case x < -180 || x > 180 || y < -90 || y > 90:
			bad = fmt.Errorf("coordinate (%g, %g) is outside longitude -180..180, latitude -90..90", x, y)
		}
		return bad == nil
	})
	return bad
}

func forEachPoint(g orb.Geometry, fn func(orb.Point) bool) bool {
	switch g := g.(type) {
	case orb.Point:
		return fn(g)
	case orb.MultiPoint:
		for _, p := range g {
			if !fn(p) {
				return false
			}
		}
	case orb.LineString:
		return forEachPoint(orb.MultiPoint(g), fn)
	case orb.Ring:
		return forEachPoint(orb.MultiPoint(g), fn)
	case orb.MultiLineString:
		for _, l := range g {
			if !forEachPoint(orb.MultiPoint(l), fn) {
				return false
			}
		}
	case orb.Polygon:
		for _, r := range g {
			if !forEachPoint(orb.MultiPoint(r), fn) {
				return false
			}
		}
	case orb.MultiPolygon:
		for _, p := range g {
			if !forEachPoint(p, fn) {
				return false
			}
		}
	case orb.Collection:
		for _, c := range g {
			if !forEachPoint(c, fn) {
				return false
			}
		}
	}
	return true
}

// convertProperties maps JSON values onto the feature model: integral
// numbers that fit become int64, other numbers float64, ISO 8601 dates and
// date-times time.Time, nested objects and arrays their JSON text.
func convertProperties(in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	for k, v := range in {
		switch v := v.(type) {
		case nil, bool:
			out[k] = v
		case string:
			out[k] = parseTime(v)
		case json.Number:
			if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				out[k] = i
				continue
			}
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil || math.IsInf(f, 0) {
				return nil, fmt.Errorf("property %q: number %s out of range", k, v)
			}
			out[k] = f
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("property %q: %w", k, err)
			}
			out[k] = string(b)
		}
	}
	return out, nil
}

// parseTime turns strictly formatted ISO 8601 dates and RFC 3339 date-times
// into time.Time and leaves every other string alone.
func parseTime(s string) any {
	switch {
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t
		}
	case len(s) >= 20 && s[4] == '-' && s[10] == 'T':
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return s
}

func decodeNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// readGeoJSON opens a GeoJSON file for Open. RFC 7946 GeoJSON is always
// longitude/latitude; the "crs" member of the 2008 specification, which
// GDAL still writes for other CRSs ("urn:ogc:def:crs:EPSG::2326"), is
// honoured when it comes before "features", as GDAL writes it.
func readGeoJSON(path string, opts Options) ([]Source, func() error, error) {
	declared, err := geojsonCRS(path)
	if err != nil && opts.CRS == "" {
		return nil, nil, err
	}
	c := crs.CRS84
	if declared != 0 || opts.CRS != "" {
		if c, err = sourceCRS(path, declared, opts); err != nil {
			return nil, nil, err
		}
	}
	var conv crs.CRS // longitude/latitude needs no conversion
	if !isLonLat(c) {
		conv = c
	}
	features := func(yield func(geo.Feature, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(geo.Feature{}, fmt.Errorf("open %s: %w", path, err))
			return
		}
		defer f.Close()
		geojsonFeatures(f, path, conv)(yield)
	}
	return []Source{{Format: FormatGeoJSON, CRS: c, Features: features}}, func() error { return nil }, nil
}

// geojsonCRS reads the top-level members of a GeoJSON file up to
// "features" for a legacy "crs" member: 0 when there is none.
func geojsonCRS(path string) (crs.CRS, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, nil // GeoJSON's own errors are clearer
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil || key == "features" {
			return 0, nil
		}
		if key != "crs" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, nil
			}
			continue
		}
		var member struct {
			Type       string
			Properties struct {
				Name string
				Code json.Number
			}
		}
		if err := dec.Decode(&member); err != nil {
			return 0, fmt.Errorf("%s: the \"crs\" member: %w", path, err)
		}
		name := member.Properties.Name
		if name == "" && member.Properties.Code != "" {
			name = "EPSG:" + member.Properties.Code.String()
		}
		c, err := crs.Lookup(name)
		if err != nil {
			return 0, fmt.Errorf("%s: the \"crs\" member: %w", path, err)
		}
		return c, nil
	}
	return 0, nil
}
