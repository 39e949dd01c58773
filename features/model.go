package features

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
	"github.com/csdi-hk/csdi/internal/jsonw"
)

// Media types of the resources.
const (
	mediaJSON    = "application/json"
	mediaGeoJSON = "application/geo+json"
	mediaOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
	mediaSchema  = "application/schema+json"
	mediaHTML    = "text/html"
)

// Link relations of OGC API beyond the IANA ones.
const (
	relQueryables     = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
	relSortables      = "http://www.opengis.net/def/rel/ogc/1.0/sortables"
	relTilingSchemes  = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
	relTilesetsVector = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
)

// CRS84 is WGS 84 longitude, latitude: the CRS of GeoJSON, of the stores,
// and of every response that does not ask for another.
const CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

// conformsTo lists the classes implemented, and only those: clients turn
// features on from this list.
func (h *Handler) conformsTo() []string {
	const (
		part1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
		part2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
		part3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
		// sortby is Part 8 (Sorting, 24-030), a draft that spells its
		// classes 1.0; QGIS and GDAL look for none of them.
		part8 = "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/"
		tiles = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
	)
	c := []string{
		part1 + "core", part1 + "geojson", part1 + "html", part1 + "oas30",
		part2 + "crs",
		// Queryables as query parameters are the ?name=value filters.
		part3 + "queryables", part3 + "queryables-query-parameters",
		part8 + "sortables", part8 + "sorting", part8 + "features-sorting",
	}
	if h.filters {
		c = append(c, filterClasses()...)
	}
	if h.opts.Tiles {
		for _, name := range []string{"core", "tileset", "tilesets-list", "geodata-tilesets", "oas30", "mvt"} {
			c = append(c, tiles+name)
		}
	}
	return c
}

// Link is a web link of the OGC API: every link carries rel and type.
type Link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type"`
	Title string `json:"title,omitempty"`
}

// Landing is the landing page.
type Landing struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Links       []Link `json:"links"`
}

// Conformance is the conformance declaration.
type Conformance struct {
	ConformsTo []string `json:"conformsTo"`
}

// Collections is the list of feature collections.
type Collections struct {
	Links       []Link       `json:"links"`
	Collections []Collection `json:"collections"`
}

// Collection describes one layer. The Chinese title and description are
// extra members, which OGC clients ignore.
type Collection struct {
	ID            string   `json:"id"`
	Title         string   `json:"title"`
	TitleZH       string   `json:"title_zh,omitempty"`
	Description   string   `json:"description,omitempty"`
	DescriptionZH string   `json:"description_zh,omitempty"`
	Attribution   string   `json:"attribution,omitempty"`
	Extent        *Extent  `json:"extent,omitempty"`
	ItemType      string   `json:"itemType"`
	CRS           []string `json:"crs"`
	StorageCRS    string   `json:"storageCrs"`
	Links         []Link   `json:"links"`
}

// Extent is a collection's extent in space and, when the layer has a time
// property, in time.
type Extent struct {
	Spatial  *SpatialExtent  `json:"spatial,omitempty"`
	Temporal *TemporalExtent `json:"temporal,omitempty"`
}

// TemporalExtent holds time intervals, the first one overall; nil is an
// open end.
type TemporalExtent struct {
	Interval [][2]*string `json:"interval"`
	TRS      string       `json:"trs"`
}

// SpatialExtent holds bounding boxes, the first one overall, in CRS84.
type SpatialExtent struct {
	BBox [][]float64 `json:"bbox"`
	CRS  string      `json:"crs"`
}

// Exception is the body of every error response.
type Exception struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

// marshal encodes v as JSON, leaving <, > and & as they are: the documents
// are not embedded in HTML, and URLs with queries stay readable.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// newCollection describes l; links are the collection's own links, and
// when is its temporal extent, if it has one.
func newCollection(l *catalog.Layer, links []Link, when *TemporalExtent) Collection {
	in := l.Info
	c := Collection{
		ID: in.ID, Title: in.Title, TitleZH: in.TitleZH,
		Description: in.Description, DescriptionZH: in.DescriptionZH,
		Attribution: in.Attribution,
		ItemType:    "feature",
		CRS:         crsURIs(),
		// The stores hold WGS84 whatever the source's CRS was.
		StorageCRS: CRS84,
		Links:      links,
	}
	if c.Title == "" {
		c.Title = in.ID
	}
	// An empty layer has no extent; a zero box would claim one at 0,0.
	if l.Len() > 0 {
		b := in.Bounds
		c.Extent = &Extent{Spatial: &SpatialExtent{
			BBox: [][]float64{{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}},
			CRS:  CRS84,
		}}
	}
	if when != nil {
		if c.Extent == nil {
			c.Extent = &Extent{}
		}
		c.Extent.Temporal = when
	}
	return c
}

// toCRS returns g in c, with the axis order c defines; g itself, which the
// layer shares with every request, is left alone.
func toCRS(g orb.Geometry, c crs.CRS) orb.Geometry {
	if c == crs.CRS84 || g == nil {
		return g
	}
	swap := c.NorthFirst()
	return project.Geometry(orb.Clone(g), func(p orb.Point) orb.Point {
		p = c.FromWGS84(p)
		if swap {
			p[0], p[1] = p[1], p[0]
		}
		return p
	})
}

// appendCollectionStart writes a GeoJSON FeatureCollection up to its first
// feature; the features follow one by one and appendCollectionEnd closes it.
func appendCollectionStart(buf []byte, matched, returned int, stamp time.Time, links []Link) ([]byte, error) {
	lj, err := marshal(links)
	if err != nil {
		return nil, fmt.Errorf("encode links: %w", err)
	}
	buf = append(buf, `{"type":"FeatureCollection","numberMatched":`...)
	buf = strconv.AppendInt(buf, int64(matched), 10)
	buf = append(buf, `,"numberReturned":`...)
	buf = strconv.AppendInt(buf, int64(returned), 10)
	buf = append(buf, `,"timeStamp":"`...)
	buf = stamp.UTC().AppendFormat(buf, time.RFC3339)
	buf = append(buf, `","links":`...)
	buf = append(buf, lj...)
	return append(buf, `,"features":[`...), nil
}

func appendCollectionEnd(buf []byte) []byte { return append(buf, "]}\n"...) }

// appendFeature writes the i-th feature of l, with geom for its geometry,
// as a GeoJSON feature. Properties come in the order of the layer's fields, each
// present (null when missing) so that a client reading the first page sees
// the whole schema; links are for a feature served on its own.
func appendFeature(buf []byte, l *catalog.Layer, i int, geom orb.Geometry, fields []geo.Field, links []Link) ([]byte, error) {
	f := l.At(i)
	buf = append(buf, `{"type":"Feature","id":`...)
	buf = strconv.AppendUint(buf, f.ID, 10)
	buf = append(buf, `,"geometry":`...)
	buf, err := appendGeometry(buf, geom)
	if err != nil {
		return nil, fmt.Errorf("feature %d: encode geometry: %w", f.ID, err)
	}
	buf = append(buf, `,"properties":{`...)
	seen := 0
	for j, fd := range fields {
		v, ok := l.Scalar(i, fd.Name)
		if ok {
			seen++
		}
		if buf, err = appendProperty(buf, j > 0, fd.Name, v, fd.Type); err != nil {
			return nil, fmt.Errorf("feature %d: %w", f.ID, err)
		}
	}
	if seen < l.NumProperties(i) {
		// Properties outside the layer's fields should not exist, but are
		// not dropped if they do. Props yields them in key order.
		n := 0
		for name, v := range l.Props(i) {
			if slices.ContainsFunc(fields, func(fd geo.Field) bool { return fd.Name == name }) {
				continue
			}
			t, _ := geo.TypeOf(v)
			if buf, err = appendProperty(buf, n > 0 || len(fields) > 0, name, catalog.ScalarOf(v), t); err != nil {
				return nil, fmt.Errorf("feature %d: %w", f.ID, err)
			}
			n++
		}
	}
	buf = append(buf, '}')
	if links != nil {
		lj, err := marshal(links)
		if err != nil {
			return nil, fmt.Errorf("feature %d: encode links: %w", f.ID, err)
		}
		buf = append(buf, `,"links":`...)
		buf = append(buf, lj...)
	}
	return append(buf, '}'), nil
}

func appendProperty(buf []byte, comma bool, name string, v catalog.Scalar, t geo.FieldType) ([]byte, error) {
	if comma {
		buf = append(buf, ',')
	}
	buf = jsonw.AppendString(buf, name, false)
	buf = append(buf, ':')
	buf, err := appendValue(buf, v, t)
	if err != nil {
		return nil, fmt.Errorf("property %q: %w", name, err)
	}
	return buf, nil
}
