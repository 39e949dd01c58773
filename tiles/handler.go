// Package tiles serves the layers of the catalog as Mapbox Vector Tiles (MVT
// 2.1), describes them with TileJSON 3.0.0 and MapLibre styles, and offers
// them through OGC API - Tiles (ogc.go).
//
// A tile is built on request from a layer's in-memory R-tree: the features
// whose bounds meet the tile and its buffer are projected to Web Mercator
// tile coordinates, clipped to the tile plus buffer, lightly simplified,
// rounded to the integer grid and written by the small encoder in mvt.go,
// which enforces the geometry rules of the specification. Features are
// written in the layer's slot order, their properties taken from the
// layer's tag index (catalog.Layer.SlotTags), and the buffers of a build
// are kept for the next (tile.go). Each layer's
// catalog.TileOptions set its zoom range, the properties it puts in tiles,
// its simplification and whether it keeps features that round to nothing
// (layeropts.go). Rings and lines of more than a few thousand vertices are
// walked in runs so that a tile projects and clips only the runs near it
// (big.go).
//
// A built tile is compressed once and kept, compressed, in a byte-bounded
// LRU cache (cache.go). Its ETag is a hash of what it is built from (the
// layers' versions, the tile, the options and the build of the program), so
// it is known before the tile is built: a revalidation costs no build, and
// replicas running the same build give the same ETag for the same tile.
package tiles

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/tiles/lru"
)

// MediaType is the media type of a vector tile.
const MediaType = "application/vnd.mapbox-vector-tile"

// Layers is what the tile engine needs from the catalog; *catalog.Catalog
// satisfies it.
type Layers interface {
	Layer(id string) (*catalog.Layer, bool)
}

var _ Layers = (*catalog.Catalog)(nil)

// zoomLimit is the deepest zoom the handler can serve: tile numbers stay
// well inside uint32 and tile coordinates inside float64 precision.
const zoomLimit = 30

// Options tune the tiles. Zero values take the defaults.
type Options struct {
	Extent  uint32 // units across a tile; default 4096
	Buffer  uint32 // units of geometry kept beyond each edge; default 64
	MaxZoom int    // deepest zoom served and announced; default 22, at most 30
	// CacheBytes bounds the memory of the built tiles kept, counted as
	// their compressed size plus a little for the bookkeeping; default
	// 256 MB, negative for no cache.
	CacheBytes int64
	// MaxAge is how long browsers and shared caches may use a tile,
	// TileJSON or style without asking again; default 5 minutes, negative
	// for none (they revalidate every time, cheaply, with the ETag).
	MaxAge time.Duration
	Log    *slog.Logger
}

// Handler serves tiles, TileJSON, styles and OGC API - Tiles.
type Handler struct {
	layers Layers
	opts   Options
	log    *slog.Logger
	// cache is nil when it is off.
	cache  *lru.Cache[tileKey, cachedTile]
	flight flight[*builtTile]
	gzip   gzipPool
	// builders keeps tile builders, with their buffers, from one build to
	// the next.
	builders     sync.Pool
	building     chan struct{} // a token for each build running
	cacheControl string
	// revision identifies the build, for ETags: a new encoder may write
	// different bytes for the same data.
	revision string
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
	opts.MaxZoom = min(opts.MaxZoom, zoomLimit)
	if opts.CacheBytes == 0 {
		opts.CacheBytes = 256 << 20
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = 5 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	h := &Handler{layers: layers, opts: opts, log: opts.Log, revision: buildRevision(),
		building: make(chan struct{}, runtime.GOMAXPROCS(0))}
	if opts.CacheBytes > 0 {
		h.cache = lru.New[tileKey, cachedTile](opts.CacheBytes)
	}
	h.cacheControl = "no-cache"
	if opts.MaxAge > 0 {
		h.cacheControl = "public, max-age=" + strconv.Itoa(int(opts.MaxAge.Seconds()))
	}
	return h
}

// Register adds the routes, each for GET, HEAD and a CORS preflight:
//
//	/tiles/{layers}/{z}/{x}/{y}.mvt   a vector tile
//	/tiles/{layers}.json              its TileJSON
//	/styles/{layers}.json             a MapLibre style drawing the layers
//
// where {layers} is a layer id or several joined by commas, and the OGC API
// - Tiles resources listed at registerOGC. Echo's router ends a parameter
// only at a slash, so the suffixes are checked here.
func (h *Handler) Register(e *echo.Echo) {
	route(e, "/tiles/:layer/:z/:x/:y", h.tile)
	route(e, "/tiles/:layer", h.tileJSON)
	route(e, "/styles/:layer", h.style)
	h.registerOGC(e)
}

// route serves fn with CORS headers for any origin: tiles, TileJSON and
// styles are public and are fetched by map pages on other sites.
func route(e *echo.Echo, path string, fn echo.HandlerFunc) {
	e.Match([]string{http.MethodGet, http.MethodHead}, path, func(c echo.Context) error {
		hdr := c.Response().Header()
		hdr.Set(echo.HeaderAccessControlAllowOrigin, "*")
		hdr.Set(echo.HeaderAccessControlExposeHeaders, "ETag")
		return fn(c)
	})
	e.OPTIONS(path, preflight)
}

// preflight answers a browser's CORS preflight. A map page sends one when
// it adds headers of its own to tile requests (an API key, say).
func preflight(c echo.Context) error {
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderAccessControlAllowOrigin, "*")
	hdr.Set(echo.HeaderAccessControlAllowMethods, "GET, HEAD, OPTIONS")
	if req := c.Request().Header.Get(echo.HeaderAccessControlRequestHeaders); req != "" {
		hdr.Set(echo.HeaderAccessControlAllowHeaders, req)
	}
	hdr.Set(echo.HeaderAccessControlMaxAge, "86400")
	hdr.Set(echo.HeaderAllow, "GET, HEAD, OPTIONS")
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) tile(c echo.Context) error {
	y, ok := strings.CutSuffix(param(c, "y"), ".mvt")
	if !ok {
		return jsonError(c, http.StatusNotFound, "no such resource: tiles are {z}/{x}/{y}.mvt")
	}
	list := param(c, "layer")
	layers, status, err := h.lookup(list)
	if err != nil {
		return jsonError(c, status, err.Error())
	}
	t, status, err := h.parseTile(param(c, "z"), param(c, "x"), y)
	if err != nil {
		return jsonError(c, status, err.Error())
	}
	return h.serveTile(c, list, layers, t)
}

// serveTile answers with tile t of layers, built or from the cache, gzipped
// for clients that take it; 204 when no feature falls in the tile.
func (h *Handler) serveTile(c echo.Context, list string, layers []*catalog.Layer, t maptile.Tile) error {
	if !h.hasZoom(layers, int(t.Z)) {
		lo, hi, _ := listZoomRange(layers, h.opts.MaxZoom)
		return jsonError(c, http.StatusNotFound, fmt.Sprintf("tile %d/%d/%d: %q has tiles from zoom %d to %d only", t.Z, t.X, t.Y, list, lo, hi))
	}
	req := c.Request()
	hdr := c.Response().Header()
	gz := acceptsGzip(req.Header.Values(echo.HeaderAcceptEncoding))
	sum := h.tileSum(layers, t)
	// The gzipped and the plain bytes are two representations, and a strong
	// ETag names exactly one.
	etag := `"` + sum + `"`
	if gz {
		etag = `"` + sum + `-gz"`
	}
	hdr.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if noneMatch(req.Header.Get("If-None-Match"), etag) {
		h.cacheHeaders(c, etag)
		return c.NoContent(http.StatusNotModified)
	}
	ctx := req.Context()
	body, err := h.tileBytes(ctx, list, layers, t, sum, gz)
	if err != nil {
		if ctx.Err() != nil {
			// The client went away or timed out: nobody reads the answer.
			h.log.DebugContext(ctx, "tile abandoned", "layers", list, "tile", t, "err", err)
			return jsonError(c, http.StatusServiceUnavailable, "request cancelled")
		}
		h.log.ErrorContext(ctx, "tile failed", "layers", list, "tile", t, "err", err)
		return fmt.Errorf("tile %d/%d/%d of %q: %w", t.Z, t.X, t.Y, list, err)
	}
	// Only now: an error must not be cached.
	h.cacheHeaders(c, etag)
	if len(body) == 0 {
		return c.NoContent(http.StatusNoContent)
	}
	if gz {
		hdr.Set(echo.HeaderContentEncoding, "gzip")
	}
	return c.Blob(http.StatusOK, MediaType, body)
}

// cacheHeaders lets browsers and shared caches keep a response and
// revalidate it with its ETag.
func (h *Handler) cacheHeaders(c echo.Context, etag string) {
	hdr := c.Response().Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", h.cacheControl)
}

// noneMatch reports whether an If-None-Match header names etag. The
// comparison is weak, as RFC 9110 asks for this header: a W/ prefix counts
// as the same tag.
func noneMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
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

// parseTile reads a tile address: 400 for a number that is not a plain
// decimal integer, 404 for a tile the tile matrix set does not have (deeper
// than MaxZoom, or beyond the edge of the world).
func (h *Handler) parseTile(zs, xs, ys string) (maptile.Tile, int, error) {
	var v [3]uint64
	for i, s := range [3]string{zs, xs, ys} {
		n, err := strconv.ParseUint(s, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			n = 1<<64 - 1 // well formed, and out of range whatever the zoom
		} else if err != nil {
			return maptile.Tile{}, http.StatusBadRequest, fmt.Errorf("tile %s/%s/%s: %q is not a non-negative integer", zs, xs, ys, s)
		}
		v[i] = n
	}
	z, x, y := v[0], v[1], v[2]
	if z > uint64(h.opts.MaxZoom) {
		return maptile.Tile{}, http.StatusNotFound, fmt.Errorf("tile %s/%s/%s: zoom %s is beyond the deepest zoom, %d", zs, xs, ys, zs, h.opts.MaxZoom)
	}
	if n := uint64(1) << z; x >= n || y >= n {
		return maptile.Tile{}, http.StatusNotFound, fmt.Errorf("tile %s/%s/%s: at zoom %d, x and y go from 0 to %d", zs, xs, ys, z, n-1)
	}
	return maptile.New(uint32(x), uint32(y), maptile.Zoom(z)), 0, nil
}

// hasZoom reports whether any of layers has tiles at zoom z: a composite
// tile exists wherever one of its layers does.
func (h *Handler) hasZoom(layers []*catalog.Layer, z int) bool {
	for _, l := range layers {
		if inZoomRange(l.Info.Tiles, z, h.opts.MaxZoom) {
			return true
		}
	}
	return false
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

// buildRevision names the build of the program: its VCS revision when it
// was built from a checkout, else its module version. Test binaries have
// neither, which is fine for tests.
func buildRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
			rev += " " + s.Value
		}
	}
	return rev
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
