// Package features serves the layers of the catalog through OGC API -
// Features under /ogc: Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0), Part 2
// (CRS by reference), Part 3 (queryables, filtering with CQL2) and the
// sortby of Part 8 (Sorting, a draft), with its sortables.
//
// The package is split the way the standard is: model.go holds the
// documents (landing page, conformance, collections, links, the streamed
// GeoJSON), params.go and datetime.go read and check query parameters,
// page.go selects the features of a page, openapi.go describes the API,
// html.go renders the HTML encoding, and the handlers here only tie them
// together. Every response is built from the live catalog and every link
// is absolute, made from the request's host.
package features

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo/crs"
)

// Layers is what this package needs from the catalog; *catalog.Catalog
// satisfies it.
type Layers interface {
	Layers() []*catalog.Layer
	Layer(id string) (*catalog.Layer, bool)
}

var _ Layers = (*catalog.Catalog)(nil)

// Options tune the API. Zero values take the defaults.
type Options struct {
	Title        string // of the landing page and the API definition
	Description  string
	DefaultLimit int // features per page without a limit parameter; default 10
	MaxLimit     int // a larger limit is lowered to this; default 10000
	// Tiles links the OGC API - Tiles resources that the tiles package
	// serves under /ogc and declares their conformance classes.
	Tiles bool
	Log   *slog.Logger
}

// Handler serves OGC API - Features.
type Handler struct {
	layers  Layers
	opts    Options
	log     *slog.Logger
	matches matchCache
	encoded encodedCache
	// bufs holds the buffers items pages are written through.
	bufs  sync.Pool
	times timeExtents
	// filters is whether the filter parameters of Part 3 are offered.
	filters bool
}

// NewHandler returns a handler over layers.
func NewHandler(layers Layers, opts Options) *Handler {
	if opts.Title == "" {
		opts.Title = "Hong Kong Common Spatial Data Infrastructure"
	}
	if opts.Description == "" {
		opts.Description = "The CSDI vector layers as OGC API - Features."
	}
	if opts.MaxLimit <= 0 {
		opts.MaxLimit = 10000
	}
	if opts.DefaultLimit <= 0 {
		opts.DefaultLimit = 10
	}
	opts.DefaultLimit = min(opts.DefaultLimit, opts.MaxLimit)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	h := &Handler{layers: layers, opts: opts, log: opts.Log, filters: filtersAvailable}
	h.bufs.New = func() any {
		b := make([]byte, 0, 2*chunkSize)
		return &b
	}
	return h
}

// Register adds the routes:
//
//	GET /ogc                                   landing page (also /ogc/)
//	GET /ogc/conformance                       conformance declaration
//	GET /ogc/api                               OpenAPI 3.0 (f=html: a readable page)
//	GET /ogc/collections                       the layers
//	GET /ogc/collections/{id}                  one layer
//	GET /ogc/collections/{id}/queryables       its properties, as JSON Schema
//	GET /ogc/collections/{id}/sortables        the properties sortby takes
//	GET /ogc/collections/{id}/items            its features, a page at a time
//	GET /ogc/collections/{id}/items/{fid}      one feature
func (h *Handler) Register(e *echo.Echo) {
	e.GET("/ogc", h.wrap(h.landing))
	e.GET("/ogc/", h.wrap(h.landing))
	e.GET("/ogc/conformance", h.wrap(h.conformance))
	e.GET("/ogc/api", h.wrap(h.api))
	e.GET("/ogc/collections", h.wrap(h.collections))
	e.GET("/ogc/collections/:id", h.wrap(h.collection))
	e.GET("/ogc/collections/:id/queryables", h.wrap(h.queryables))
	e.GET("/ogc/collections/:id/sortables", h.wrap(h.sortables))
	e.GET("/ogc/collections/:id/items", h.wrap(h.items))
	e.GET("/ogc/collections/:id/items/:fid", h.wrap(h.item))
}

// wrap answers an *apiError as an OGC exception and any other error as a
// logged 500.
func (h *Handler) wrap(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// Responses differ by Accept; caches must keep them apart.
		c.Response().Header().Add("Vary", "Accept")
		err := fn(c)
		if err == nil {
			return nil
		}
		var ae *apiError
		if !errors.As(err, &ae) {
			ctx := c.Request().Context()
			if c.Response().Committed {
				// Mid-stream, mostly a client that went away: it sees a cut body.
				h.log.WarnContext(ctx, "ogc response cut short", "url", c.Request().URL.String(), "err", err)
				return nil
			}
			h.log.ErrorContext(ctx, "ogc request failed", "url", c.Request().URL.String(), "err", err)
			ae = &apiError{http.StatusInternalServerError, Exception{Code: "ServerError", Description: "internal server error"}}
		}
		return writeJSON(c, ae.status, mediaJSON, ae.Exception)
	}
}

// writeJSON answers v as JSON of the media type.
func writeJSON(c echo.Context, status int, media string, v any) error {
	body, err := marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	return c.Blob(status, media, append(body, '\n'))
}

// base is the absolute URL of /ogc as the client addressed the server.
func base(c echo.Context) string { return c.Scheme() + "://" + c.Request().Host + "/ogc" }

// link builds an absolute URL under /ogc; commas stay readable in bbox.
func link(c echo.Context, path string, q url.Values) string {
	u := base(c) + path
	if len(q) > 0 {
		u += "?" + strings.ReplaceAll(q.Encode(), "%2C", ",")
	}
	return u
}

// docLinks links a resource to itself, keeping the query, and to its
// other encoding; media is its JSON media type.
func docLinks(c echo.Context, path, media string, f format) []Link {
	q := c.QueryParams()
	alt := maps.Clone(q)
	self := Link{Href: link(c, path, q), Rel: "self", Type: media, Title: "This document"}
	other := Link{Rel: "alternate", Type: mediaHTML, Title: "This document as HTML"}
	if f == formatHTML {
		self.Type = mediaHTML
		other.Type, other.Title = media, "This document as JSON"
		alt.Set("f", "json")
	} else {
		alt.Set("f", "html")
	}
	other.Href = link(c, path, alt)
	return []Link{self, other}
}

// resource checks the query of a resource without parameters of its own
// and picks its encoding.
func resource(c echo.Context, html bool) (format, error) {
	q := c.QueryParams()
	if err := checkParams(q, resourceParams()); err != nil {
		return 0, err
	}
	return negotiate(c.Request(), q, html)
}

func (h *Handler) landing(c echo.Context) error {
	f, err := resource(c, true)
	if err != nil {
		return err
	}
	b := base(c)
	doc := Landing{
		Title:       h.opts.Title,
		Description: h.opts.Description,
		Links: append(docLinks(c, "", mediaJSON, f),
			Link{Href: b + "/api", Rel: "service-desc", Type: mediaOpenAPI, Title: "API definition (OpenAPI 3.0)"},
			Link{Href: b + "/api?f=html", Rel: "service-doc", Type: mediaHTML, Title: "API documentation"},
			Link{Href: b + "/conformance", Rel: "conformance", Type: mediaJSON, Title: "Conformance classes implemented"},
			Link{Href: b + "/collections", Rel: "data", Type: mediaJSON, Title: "Feature collections"},
		),
	}
	if h.opts.Tiles {
		doc.Links = append(doc.Links, Link{Href: b + "/tileMatrixSets", Rel: relTilingSchemes, Type: mediaJSON, Title: "Tile matrix sets"})
	}
	if f == formatHTML {
		return h.html(c, "landing", doc.Title, nil, doc)
	}
	return writeJSON(c, http.StatusOK, mediaJSON, doc)
}

func (h *Handler) conformance(c echo.Context) error {
	f, err := resource(c, true)
	if err != nil {
		return err
	}
	doc := Conformance{ConformsTo: h.conformsTo()}
	if f == formatHTML {
		return h.html(c, "conformance", "Conformance", []crumb{{"Conformance", ""}}, doc)
	}
	return writeJSON(c, http.StatusOK, mediaJSON, doc)
}

func (h *Handler) api(c echo.Context) error {
	f, err := resource(c, true)
	if err != nil {
		return err
	}
	doc := h.openAPI(base(c), h.layers.Layers())
	if f == formatHTML {
		return h.html(c, "api", "API", []crumb{{"API", ""}}, apiPage(doc))
	}
	return writeJSON(c, http.StatusOK, mediaOpenAPI, doc)
}

// collectionLinks are the links of a collection, in the list and on its
// own alike, as clients and the suite compare the two.
func (h *Handler) collectionLinks(c echo.Context, id string) []Link {
	p := "/collections/" + id
	html := url.Values{"f": {"html"}}
	links := []Link{
		{Href: link(c, p, nil), Rel: "self", Type: mediaJSON, Title: "This collection"},
		{Href: link(c, p, html), Rel: "alternate", Type: mediaHTML, Title: "This collection as HTML"},
		{Href: link(c, p+"/items", nil), Rel: "items", Type: mediaGeoJSON, Title: "Its features as GeoJSON"},
		{Href: link(c, p+"/items", html), Rel: "items", Type: mediaHTML, Title: "Its features as HTML"},
		{Href: link(c, p+"/queryables", nil), Rel: relQueryables, Type: mediaSchema, Title: "The properties that can be filtered on"},
		{Href: link(c, p+"/sortables", nil), Rel: relSortables, Type: mediaSchema, Title: "The properties that sortby takes"},
	}
	if h.opts.Tiles {
		links = append(links, Link{Href: link(c, p+"/tiles", nil), Rel: relTilesetsVector, Type: mediaJSON, Title: "Vector tilesets"})
	}
	return links
}

func (h *Handler) collections(c echo.Context) error {
	f, err := resource(c, true)
	if err != nil {
		return err
	}
	out := Collections{Links: docLinks(c, "/collections", mediaJSON, f), Collections: []Collection{}}
	for _, l := range h.layers.Layers() {
		out.Collections = append(out.Collections, newCollection(l, h.collectionLinks(c, l.Info.ID), h.times.get(l)))
	}
	if f == formatHTML {
		return h.html(c, "collections", "Collections", []crumb{{"Collections", ""}}, out)
	}
	return writeJSON(c, http.StatusOK, mediaJSON, out)
}

// layer returns the layer named in the path, or a 404.
func (h *Handler) layer(c echo.Context) (*catalog.Layer, error) {
	id := c.Param("id")
	l, ok := h.layers.Layer(id)
	if !ok {
		return nil, notFound("no collection %q", id)
	}
	return l, nil
}

func (h *Handler) collection(c echo.Context) error {
	l, err := h.layer(c)
	if err != nil {
		return err
	}
	f, err := resource(c, true)
	if err != nil {
		return err
	}
	doc := newCollection(l, h.collectionLinks(c, l.Info.ID), h.times.get(l))
	if f == formatHTML {
		return h.html(c, "collection", doc.Title, h.crumbs(c, l, false), doc)
	}
	return writeJSON(c, http.StatusOK, mediaJSON, doc)
}

func (h *Handler) queryables(c echo.Context) error {
	l, err := h.layer(c)
	if err != nil {
		return err
	}
	if _, err := resource(c, false); err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, mediaSchema, queryables(link(c, "/collections/"+l.Info.ID+"/queryables", nil), l))
}

func (h *Handler) sortables(c echo.Context) error {
	l, err := h.layer(c)
	if err != nil {
		return err
	}
	if _, err := resource(c, false); err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, mediaSchema, sortables(link(c, "/collections/"+l.Info.ID+"/sortables", nil), l))
}

func (h *Handler) items(c echo.Context) error {
	l, err := h.layer(c)
	if err != nil {
		return err
	}
	// Part 8 finds the sortables of a sortable resource by this header.
	c.Response().Header().Add("Link", "<"+link(c, "/collections/"+l.Info.ID+"/sortables", nil)+`>; rel="`+relSortables+`"; type="`+mediaSchema+`"`)
	q, err := h.parseItems(c.Request(), l)
	if err != nil {
		return err
	}
	pg, err := selectPage(l, h.selection(l, &q), &q)
	if err != nil {
		return err
	}

	path := "/collections/" + l.Info.ID + "/items"
	links := docLinks(c, path, mediaGeoJSON, q.format)
	pageType := mediaGeoJSON
	if q.format == formatHTML {
		pageType = mediaHTML
	}
	pageLink := func(rel string, after uint64) Link {
		v := maps.Clone(q.query)
		v.Del("after")
		if after > 0 {
			v.Set("after", strconv.FormatUint(after, 10))
		}
		return Link{Href: link(c, path, v), Rel: rel, Type: pageType, Title: rel + " page"}
	}
	if pg.hasNext {
		links = append(links, pageLink("next", pg.next))
	}
	if pg.hasPrev {
		links = append(links, pageLink("prev", pg.prev))
	}
	links = append(links, Link{Href: link(c, "/collections/"+l.Info.ID, nil), Rel: "collection", Type: mediaJSON, Title: "The collection"})
	if q.format == formatHTML {
		// The page's map draws the features in CRS84 whatever crs asks.
		c.Response().Header().Set("Content-Crs", contentCRS(crs.CRS84))
		return h.itemsHTML(c, l, pg, links)
	}

	ctx := c.Request().Context()
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, mediaGeoJSON)
	res.Header().Set("Content-Crs", contentCRS(q.crs))
	bp := h.bufs.Get().(*[]byte)
	defer func() {
		// A buffer grown by one huge feature is left to the collector.
		if cap(*bp) <= 4*chunkSize {
			h.bufs.Put(bp)
		}
	}()
	buf, err := appendCollectionStart((*bp)[:0], pg.matched, len(pg.items), time.Now(), links)
	if err != nil {
		return err
	}
	enc, wgs84 := h.encoded.of(l), q.crs == crs.CRS84
	res.WriteHeader(http.StatusOK)
	// Features go out in chunks of one reused buffer, so a page of 10000
	// large polygons never sits in memory as a whole, and a page of small
	// ones takes a few writes rather than one per feature.
	for i, idx := range pg.items {
		if i > 0 {
			buf = append(buf, ',')
		}
		// Only CRS84 GeoJSON is kept: other CRSs are asked for rarely.
		if j, ok := enc.get(idx); ok && wgs84 {
			buf = append(buf, j...)
		} else {
			f, start := l.At(idx), len(buf)
			if buf, err = appendFeature(buf, l, idx, toCRS(f.Geometry, q.crs), l.Info.Fields, nil); err != nil {
				return fmt.Errorf("layer %q: %w", l.Info.ID, err)
			}
			if wgs84 {
				enc.put(&h.encoded, idx, buf[start:])
			}
		}
		if len(buf) >= chunkSize {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("layer %q items: %w", l.Info.ID, err)
			}
			if _, err := res.Write(buf); err != nil {
				return fmt.Errorf("layer %q items: write: %w", l.Info.ID, err)
			}
			buf = buf[:0]
		}
	}
	buf = appendCollectionEnd(buf)
	*bp = buf
	if _, err := res.Write(buf); err != nil {
		return fmt.Errorf("layer %q items: write: %w", l.Info.ID, err)
	}
	return nil
}

// chunkSize is how much of an items page is gathered before it is written.
const chunkSize = 32 << 10

func (h *Handler) item(c echo.Context) error {
	l, err := h.layer(c)
	if err != nil {
		return err
	}
	fid := c.Param("fid")
	id, err := strconv.ParseUint(fid, 10, 64)
	// Only the canonical spelling names a feature, so the GeoJSON id always
	// equals the path.
	if err != nil || strconv.FormatUint(id, 10) != fid {
		return notFound("no feature %q in collection %q: feature ids are positive integers", fid, l.Info.ID)
	}
	i, ok := l.Index(id)
	if !ok {
		return notFound("no feature %d in collection %q", id, l.Info.ID)
	}
	q := c.QueryParams()
	if err := checkParams(q, itemParams()); err != nil {
		return err
	}
	form, err := negotiate(c.Request(), q, true)
	if err != nil {
		return err
	}
	out, err := parseCRS(q, "crs")
	if err != nil {
		return err
	}
	links := append(docLinks(c, "/collections/"+l.Info.ID+"/items/"+fid, mediaGeoJSON, form),
		Link{Href: link(c, "/collections/"+l.Info.ID, nil), Rel: "collection", Type: mediaJSON, Title: "The collection"})
	if form == formatHTML {
		c.Response().Header().Set("Content-Crs", contentCRS(crs.CRS84))
		return h.featureHTML(c, l, i, links)
	}
	body, err := appendFeature(nil, l, i, toCRS(l.At(i).Geometry, out), l.Info.Fields, links)
	if err != nil {
		return fmt.Errorf("layer %q: %w", l.Info.ID, err)
	}
	c.Response().Header().Set("Content-Crs", contentCRS(out))
	return c.Blob(http.StatusOK, mediaGeoJSON, append(body, '\n'))
}

// contentCRS is the value of the Content-Crs header for c.
func contentCRS(c crs.CRS) string { return "<" + c.URI() + ">" }
