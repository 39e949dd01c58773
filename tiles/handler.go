// Package tiles serves the layers of the catalog as Mapbox Vector Tiles (MVT
// 2.1) and describes them with TileJSON 3.0.0.
//
// A tile is built on request from a layer's in-memory R-tree: the features
// whose bounds meet the tile and its buffer are projected to Web Mercator
// tile coordinates, clipped to the tile plus buffer, lightly simplified,
// rounded to the integer grid and written by the small encoder in mvt.go,
// which enforces the geometry rules of the specification.
package tiles

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// MediaType is the media type of a vector tile.
const MediaType = "application/vnd.mapbox-vector-tile"

// Layers is what the tile engine needs from the catalog; *catalog.Catalog
// satisfies it.
type Layers interface {
	Layer(id string) (*catalog.Layer, bool)
}

var _ Layers = (*catalog.Catalog)(nil)

// Options tune the tiles. Zero values take the defaults.
type Options struct {
	Extent  uint32 // units across a tile; default 4096
	Buffer  uint32 // units of geometry kept beyond each edge; default 64
	MaxZoom int    // deepest zoom served and announced; default 22, at most 30
	Log     *slog.Logger
}

// Handler serves tiles and TileJSON.
type Handler struct {
	layers Layers
	opts   Options
	log    *slog.Logger
}

// NewHandler returns a handler over layers.
func NewHandler(layers Layers, opts Options) *Handler {
	if opts.Extent == 0 {
		opts.Extent = 4096
	}
	if opts.Buffer == 0 {
		opts.Buffer = 64
	}
	if opts.MaxZoom <= 0 {
		opts.MaxZoom = 22
	}
	opts.MaxZoom = min(opts.MaxZoom, 30)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Handler{layers: layers, opts: opts, log: opts.Log}
}

// Register adds the routes:
//
//	GET /tiles/{layer}/{z}/{x}/{y}.mvt   a vector tile
//	GET /tiles/{layer}.json              its TileJSON
//
// where {layer} is a layer id or several joined by commas. Echo's router
// ends a parameter only at a slash, so the suffixes are checked here.
func (h *Handler) Register(e *echo.Echo) {
	e.GET("/tiles/:layer/:z/:x/:y", h.tile)
	e.GET("/tiles/:layer", h.tileJSON)
}

func (h *Handler) tile(c echo.Context) error {
	y, ok := strings.CutSuffix(param(c, "y"), ".mvt")
	if !ok {
		return jsonError(c, http.StatusNotFound, "no such resource: tiles are {z}/{x}/{y}.mvt")
	}
	layers, status, err := h.lookup(param(c, "layer"))
	if err != nil {
		return jsonError(c, status, err.Error())
	}
	t, err := h.parseTile(param(c, "z"), param(c, "x"), y)
	if err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	body, err := buildTile(ctx, layers, t, h.opts.Extent, h.opts.Buffer)
	if err != nil {
		// Only cancellation stops a build: the client went away or timed
		// out, and nobody reads the answer.
		h.log.DebugContext(ctx, "tile abandoned", "err", err)
		return jsonError(c, http.StatusServiceUnavailable, "request cancelled")
	}
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if len(body) == 0 {
		return c.NoContent(http.StatusNoContent)
	}
	if acceptsGzip(c.Request().Header.Values(echo.HeaderAcceptEncoding)) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body) // writes to a bytes.Buffer do not fail
		if err := zw.Close(); err != nil {
			return fmt.Errorf("gzip tile %d/%d/%d of %q: %w", t.Z, t.X, t.Y, param(c, "layer"), err)
		}
		body = buf.Bytes()
		c.Response().Header().Set(echo.HeaderContentEncoding, "gzip")
	}
	return c.Blob(http.StatusOK, MediaType, body)
}

// lookup resolves a comma-separated list of layer ids.
func (h *Handler) lookup(list string) ([]*catalog.Layer, int, error) {
	ids := strings.Split(list, ",")
	layers := make([]*catalog.Layer, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			// MVT layer names must be unique within a tile.
			return nil, http.StatusBadRequest, fmt.Errorf("layer list %q: each layer id must be given once and not be empty", list)
		}
		seen[id] = true
		l, ok := h.layers.Layer(id)
		if !ok {
			return nil, http.StatusNotFound, fmt.Errorf("layer %q not found", id)
		}
		layers = append(layers, l)
	}
	return layers, 0, nil
}

func (h *Handler) parseTile(zs, xs, ys string) (maptile.Tile, error) {
	z, err := strconv.ParseUint(zs, 10, 8)
	if err != nil || int(z) > h.opts.MaxZoom {
		return maptile.Tile{}, fmt.Errorf("zoom %q: want an integer from 0 to %d", zs, h.opts.MaxZoom)
	}
	n := uint64(1) << z
	x, err := strconv.ParseUint(xs, 10, 32)
	if err != nil || x >= n {
		return maptile.Tile{}, fmt.Errorf("x %q: want an integer from 0 to %d at zoom %d", xs, n-1, z)
	}
	y, err := strconv.ParseUint(ys, 10, 32)
	if err != nil || y >= n {
		return maptile.Tile{}, fmt.Errorf("y %q: want an integer from 0 to %d at zoom %d", ys, n-1, z)
	}
	return maptile.New(uint32(x), uint32(y), maptile.Zoom(z)), nil
}

// acceptsGzip reads Accept-Encoding headers, honouring gzip;q=0.
func acceptsGzip(headers []string) bool {
	for _, h := range headers {
		for part := range strings.SplitSeq(h, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
			if !ok {
				return true
			}
			if v, err := strconv.ParseFloat(q, 64); err == nil && v > 0 {
				return true
			}
		}
	}
	return false
}

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

func (h *Handler) tileJSON(c echo.Context) error {
	ids, ok := strings.CutSuffix(param(c, "layer"), ".json")
	if !ok {
		return jsonError(c, http.StatusNotFound, "no such resource: TileJSON is /tiles/{layer}.json")
	}
	layers, status, err := h.lookup(ids)
	if err != nil {
		return jsonError(c, status, err.Error())
	}
	tj := tileJSON{
		TileJSON: "3.0.0",
		Scheme:   "xyz",
		Tiles:    []string{c.Scheme() + "://" + c.Request().Host + "/tiles/" + ids + "/{z}/{x}/{y}.mvt"},
		MinZoom:  0,
		MaxZoom:  h.opts.MaxZoom,
	}
	var names, attributions []string
	var bounds orb.Bound
	empty := true
	for _, l := range layers {
		info := l.Info
		names = append(names, cmp.Or(info.Title, info.ID))
		if a := info.Attribution; a != "" && !slices.Contains(attributions, a) {
			attributions = append(attributions, a)
		}
		fields := make(map[string]string, len(info.Fields))
		for _, f := range info.Fields {
			fields[f.Name] = fieldType(f.Type)
		}
		tj.VectorLayers = append(tj.VectorLayers, vectorLayer{
			ID: info.ID, Description: cmp.Or(info.Description, info.Title),
			MinZoom: 0, MaxZoom: h.opts.MaxZoom, Fields: fields,
		})
		if info.FeatureCount > 0 || l.Len() > 0 {
			if empty {
				bounds, empty = info.Bounds, false
			} else {
				bounds = bounds.Union(info.Bounds)
			}
		}
	}
	tj.Name = strings.Join(names, ", ")
	tj.Attribution = strings.Join(attributions, " | ")
	if len(layers) == 1 {
		tj.Description = layers[0].Info.Description
	}
	if empty {
		bounds = orb.Bound{Min: orb.Point{-180, -maxLat}, Max: orb.Point{180, maxLat}}
	}
	clampLat := func(v float64) float64 { return math.Max(-maxLat, math.Min(maxLat, v)) }
	tj.Bounds = [4]float64{bounds.Min[0], clampLat(bounds.Min[1]), bounds.Max[0], clampLat(bounds.Max[1])}
	tj.Center = [3]float64{
		(tj.Bounds[0] + tj.Bounds[2]) / 2,
		(tj.Bounds[1] + tj.Bounds[3]) / 2,
		float64(centerZoom(bounds, h.opts.MaxZoom)),
	}
	return c.JSON(http.StatusOK, tj)
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

// param is a path parameter unescaped: echo hands them over as sent, so a
// client that escapes the comma of a layer list would not be understood.
func param(c echo.Context, name string) string {
	v, err := url.PathUnescape(c.Param(name))
	if err != nil {
		return c.Param(name)
	}
	return v
}

// jsonError answers with an OGC API style exception.
func jsonError(c echo.Context, status int, description string) error {
	code := "InternalError"
	switch status {
	case http.StatusBadRequest:
		code = "InvalidParameterValue"
	case http.StatusNotFound:
		code = "NotFound"
	case http.StatusServiceUnavailable:
		code = "Unavailable"
	}
	return c.JSON(status, map[string]string{"code": code, "description": description})
}
