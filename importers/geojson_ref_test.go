package importers

// The reader that geojson.go replaced, kept as the reference for the
// differential test: encoding/json decodes each feature and orb/geojson its
// geometry, so it is slow but its behaviour on valid input is the one the
// hand-written parser must keep.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"

	"github.com/paulmach/orb/geojson"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

type refReader struct {
	dec  *json.Decoder
	name string
	crs  crs.CRS // of the coordinates; 0 for longitude/latitude
	n    int     // features read
	keep bool    // use the source ids
}

func (g *refReader) errf(format string, a ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{g.name}, a...)...)
}

func (g *refReader) run(yield func(geo.Feature, error) bool) {
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
			if !g.refStreamFeatures(yield) {
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
		var f refRawFeature
		f.ID, f.Geometry = members["id"], members["geometry"]
		if p := members["properties"]; len(p) > 0 {
			if err := refDecodeNumbers(p, &f.Properties); err != nil {
				yield(geo.Feature{}, g.errf("feature 1: properties: %w", err))
				return
			}
		}
		if !g.emit(f, yield) {
			return
		}
		// Newline-delimited GeoJSON: more Features follow the first.
		for g.dec.More() {
			var f refRawFeature
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

type refRawFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties map[string]any  `json:"properties"`
}

func (g *refReader) refStreamFeatures(yield func(geo.Feature, error) bool) bool {
	tok, err := g.dec.Token()
	if err != nil {
		return yield(geo.Feature{}, g.errf("reading \"features\": %w", err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		yield(geo.Feature{}, g.errf("\"features\" must be an array"))
		return false
	}
	for g.dec.More() {
		var f refRawFeature
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
func (g *refReader) emit(rf refRawFeature, yield func(geo.Feature, error) bool) bool {
	g.n++
	f, err := g.convert(rf)
	if err != nil {
		yield(geo.Feature{}, g.errf("feature %d: %w", g.n, err))
		return false
	}
	return yield(f, nil)
}

func (g *refReader) convert(rf refRawFeature) (geo.Feature, error) {
	id, hasID := refPositiveID(rf.ID)
	if g.n == 1 {
		g.keep = hasID
	}
	switch {
	case g.keep && !hasID:
		return geo.Feature{}, fmt.Errorf("\"id\" %s is not a positive integer, but the first feature's id was (all or none must have one)", refOrNone(rf.ID))
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
	props, err := refConvertProperties(rf.Properties)
	if err != nil {
		return geo.Feature{}, err
	}
	return geo.Feature{ID: id, Geometry: geom, Properties: props}, nil
}

func refOrNone(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(none)"
	}
	return string(raw)
}

func refPositiveID(raw json.RawMessage) (uint64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	id, err := strconv.ParseUint(string(raw), 10, 64)
	return id, err == nil && id > 0
}

// refConvertProperties maps JSON values onto the feature model: integral
// numbers that fit become int64, other numbers float64, ISO 8601 dates and
// date-times time.Time, nested objects and arrays their JSON text.
func refConvertProperties(in map[string]any) (map[string]any, error) {
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

func refDecodeNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// refGeoJSON is GeoJSON as it was.
func refGeoJSON(r io.Reader, name string) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		g := refReader{dec: json.NewDecoder(bufio.NewReaderSize(r, 1<<16)), name: name}
		g.dec.UseNumber()
		g.run(yield)
	}
}
