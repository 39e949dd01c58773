package tiles

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// tileJSON is the TileJSON 3.0.0 document of one or more layers.
type tileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name,omitempty"`
	Description  string        `json:"description,omitempty"`
	Attribution  string        `json:"attribution,omitempty"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	VectorLayers []vectorLayer `json:"vector_layers"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
}

type vectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// layersParam resolves the {layers}.json of a route.
func (h *Handler) layersParam(c echo.Context, what string) (string, []*catalog.Layer, int, error) {
	list, ok := strings.CutSuffix(param(c, "layer"), ".json")
	if !ok {
		return "", nil, http.StatusNotFound, fmt.Errorf("no such resource: %s", what)
	}
	layers, status, err := h.lookup(list)
	return list, layers, status, err
}

func (h *Handler) tileJSON(c echo.Context) error {
	list, layers, status, err := h.layersParam(c, "TileJSON is /tiles/{layers}.json")
	if err != nil {
		return jsonError(c, status, err.Error())
	}
	tj := tileJSON{
		TileJSON: "3.0.0",
		Scheme:   "xyz",
		Tiles:    []string{origin(c) + "/tiles/" + list + "/{z}/{x}/{y}.mvt"},
	}
	var names, attributions []string
	for _, l := range layers {
		info := l.Info
		names = append(names, cmp.Or(info.Title, info.ID))
		// MapLibre shows the attribution as HTML; the departments' text
		// is text.
		if a := html.EscapeString(info.Attribution); a != "" && !slices.Contains(attributions, a) {
			attributions = append(attributions, a)
		}
		keep := keepSet(info.Tiles.Properties)
		fields := make(map[string]string, len(info.Fields))
		for _, f := range info.Fields {
			if keep == nil || keep[f.Name] {
				fields[f.Name] = fieldType(f.Type)
			}
		}
		lo, hi := zoomRange(info.Tiles, h.opts.MaxZoom)
		tj.VectorLayers = append(tj.VectorLayers, vectorLayer{
			ID: info.ID, Description: cmp.Or(info.Description, info.Title),
			MinZoom: lo, MaxZoom: hi, Fields: fields,
		})
	}
	if lo, hi, ok := listZoomRange(layers, h.opts.MaxZoom); ok {
		tj.MinZoom, tj.MaxZoom = lo, hi
	}
	tj.Name = strings.Join(names, ", ")
	tj.Attribution = strings.Join(attributions, " | ")
	if len(layers) == 1 {
		tj.Description = layers[0].Info.Description
	}
	tj.Bounds, tj.Center = h.extent(layers)
	tj.Center[2] = math.Max(float64(tj.MinZoom), math.Min(float64(tj.MaxZoom), tj.Center[2]))
	return h.writeJSON(c, tj)
}

// extent is the bounds of layers, clamped to what Web Mercator shows (the
// world for layers without features), and a point in the middle at the
// deepest zoom that still shows them whole.
func (h *Handler) extent(layers []*catalog.Layer) ([4]float64, [3]float64) {
	var bounds orb.Bound
	empty := true
	for _, l := range layers {
		if l.Info.FeatureCount == 0 && l.Len() == 0 {
			continue
		}
		if empty {
			bounds, empty = l.Info.Bounds, false
		} else {
			bounds = bounds.Union(l.Info.Bounds)
		}
	}
	if empty {
		bounds = orb.Bound{Min: orb.Point{-180, -maxLat}, Max: orb.Point{180, maxLat}}
	}
	clampLat := func(v float64) float64 { return math.Max(-maxLat, math.Min(maxLat, v)) }
	b := [4]float64{bounds.Min[0], clampLat(bounds.Min[1]), bounds.Max[0], clampLat(bounds.Max[1])}
	return b, [3]float64{(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, float64(centerZoom(bounds, h.opts.MaxZoom))}
}

// centerZoom is the deepest zoom at which bounds still fit in one tile.
func centerZoom(b orb.Bound, maxZoom int) int {
	span := math.Max(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1])
	if span <= 0 {
		return maxZoom
	}
	return max(0, min(maxZoom, int(math.Floor(math.Log2(360/span)))))
}

// fieldType describes a field for TileJSON the way tippecanoe does, by the
// type a style sees in the tile (dates arrive as strings).
func fieldType(t geo.FieldType) string {
	switch t {
	case geo.Integer, geo.Number:
		return "Number"
	case geo.Boolean:
		return "Boolean"
	}
	return "String"
}

// A MapLibre style (version 8) that draws layers with plain defaults by
// geometry type. It needs no glyphs or sprites: nothing is labelled.
type style struct {
	Version int                    `json:"version"`
	Name    string                 `json:"name"`
	Center  [2]float64             `json:"center"`
	Zoom    float64                `json:"zoom"`
	Sources map[string]styleSource `json:"sources"`
	Layers  []styleLayer           `json:"layers"`
}

type styleSource struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type styleLayer struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Source      string         `json:"source,omitempty"`
	SourceLayer string         `json:"source-layer,omitempty"`
	Filter      []any          `json:"filter,omitempty"`
	Layout      map[string]any `json:"layout,omitempty"`
	Paint       map[string]any `json:"paint"`
}

// palette is told apart by most colour-blind readers; layers take its
// colours in the order of the list.
var palette = [...]string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"}

// drawRank puts polygons under lines under points, whatever the list order.
func drawRank(geometryType string) int {
	switch geometryType {
	case "Polygon":
		return 0
	case "LineString":
		return 2
	case "Point":
		return 3
	}
	return 1
}

// style answers /styles/{layers}.json. Each layer gets a source named by its
// id, so that a viewer can tell the layers apart by source, and every source
// points at the one TileJSON of the whole list: they all ask for the same
// composite tile URLs, which the server builds and caches once and the
// browser's HTTP cache fetches once.
func (h *Handler) style(c echo.Context) error {
	list, layers, status, err := h.layersParam(c, "styles are /styles/{layers}.json")
	if err != nil {
		return jsonError(c, status, err.Error())
	}
	tileJSONURL := origin(c) + "/tiles/" + list + ".json"
	_, center := h.extent(layers)
	st := style{
		Version: 8,
		Center:  [2]float64{center[0], center[1]},
		Zoom:    center[2],
		Sources: map[string]styleSource{},
		Layers:  []styleLayer{{ID: "background", Type: "background", Paint: map[string]any{"background-color": "#dfe7ea"}}},
	}
	var names []string
	type colored struct {
		l     *catalog.Layer
		color string
	}
	ordered := make([]colored, len(layers))
	for i, l := range layers {
		names = append(names, cmp.Or(l.Info.Title, l.Info.ID))
		ordered[i] = colored{l, palette[i%len(palette)]}
		st.Sources[l.Info.ID] = styleSource{Type: "vector", URL: tileJSONURL}
	}
	slices.SortStableFunc(ordered, func(a, b colored) int {
		return cmp.Compare(drawRank(a.l.Info.GeometryType), drawRank(b.l.Info.GeometryType))
	})
	for _, o := range ordered {
		st.Layers = append(st.Layers, styleLayers(o.l.Info.ID, o.l.Info.GeometryType, o.color)...)
	}
	st.Name = strings.Join(names, ", ")
	return h.writeJSON(c, st)
}

// styleLayers draws one data layer. The legacy "$type" filter matches
// Multi* geometries too, which ["geometry-type"] no longer does in MapLibre;
// a mixed layer ("Geometry") gets all three kinds.
func styleLayers(id, geometryType, color string) []styleLayer {
	var out []styleLayer
	add := func(suffix, typ, kind string, layout, paint map[string]any) {
		out = append(out, styleLayer{ID: id + ":" + suffix, Type: typ, Source: id, SourceLayer: id,
			Filter: []any{"==", "$type", kind}, Layout: layout, Paint: paint})
	}
	all := geometryType != "Point" && geometryType != "LineString" && geometryType != "Polygon"
	if all || geometryType == "Polygon" {
		add("fill", "fill", "Polygon", nil, map[string]any{"fill-color": color, "fill-opacity": 0.35})
		add("outline", "line", "Polygon", nil, map[string]any{"line-color": color, "line-width": 1.2})
	}
	if all || geometryType == "LineString" {
		add("line", "line", "LineString", map[string]any{"line-cap": "round", "line-join": "round"},
			map[string]any{"line-color": color, "line-width": 2.5})
	}
	if all || geometryType == "Point" {
		add("circle", "circle", "Point", nil, map[string]any{"circle-color": color, "circle-radius": 5,
			"circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5})
	}
	return out
}

// writeJSON answers v with an ETag from its bytes, so that a client
// revalidating an unchanged document gets a 304.
func (h *Handler) writeJSON(c echo.Context, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	d := fnv.New128a()
	d.Write(body)
	etag := `"` + hex.EncodeToString(d.Sum(nil)) + `"`
	h.cacheHeaders(c, etag)
	if noneMatch(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, append(body, '\n'))
}

// origin is the scheme and host the client addressed, for absolute URLs;
// behind a proxy echo reads X-Forwarded-Proto.
func origin(c echo.Context) string { return c.Scheme() + "://" + c.Request().Host }
