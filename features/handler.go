// Package features serves the layers of the catalog through OGC API -
// Features - Part 1: Core, as JSON and GeoJSON under /ogc.
//
// The package is split the way the standard is: model.go holds the
// documents (landing page, conformance, collections, links, the streamed
// GeoJSON), params.go reads and checks query parameters, page.go selects
// the features of a page, openapi.go describes the API, and the handlers
// here only tie them together. Every response is built from the live
// catalog and every link is absolute, made from the request's host.
package features

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/csdi-hk/csdi/catalog"
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
	Log          *slog.Logger
}

// Handler serves OGC API - Features.
type Handler struct {
	layers Layers
	opts   Options
	log    *slog.Logger
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
	return &Handler{layers: layers, opts: opts, log: opts.Log}
}

// Register adds the routes:
//
//	GET /ogc                                   landing page (also /ogc/)
//	GET /ogc/conformance                       conformance declaration
//	GET /ogc/api                               OpenAPI 3.0 (f=html: a readable list of paths)
//	GET /ogc/collections                       the layers
//	GET /ogc/collections/{id}                  one layer
//	GET /ogc/collections/{id}/items            its features, a page at a time
//	GET /ogc/collections/{id}/items/{fid}      one feature
func (h *Handler) Register(e *echo.Echo) {
	e.GET("/ogc", h.wrap(h.landing))
	e.GET("/ogc/", h.wrap(h.landing))
	e.GET("/ogc/conformance", h.wrap(h.conformance))
	e.GET("/ogc/api", h.wrap(h.api))
	e.GET("/ogc/collections", h.wrap(h.collections))
	e.GET("/ogc/collections/:id", h.wrap(h.collection))
	e.GET("/ogc/collections/:id/items", h.wrap(h.items))
	e.GET("/ogc/collections/:id/items/:fid", h.wrap(h.item))
}

// wrap answers an *apiError as an OGC exception and any other error as a
// logged 500.
func (h *Handler) wrap(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
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
		return writeJSON(c, ae.status, ae.Exception)
	}
}

// writeJSON answers v as JSON.
func writeJSON(c echo.Context, status int, v any) error {
	body, err := marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	return c.Blob(status, echo.MIMEApplicationJSON, append(body, '\n'))
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

// selfLinks links a resource to itself. HTML, when it comes, adds an
// alternate link here for every other encoding.
func selfLinks(c echo.Context, path, media string) []Link {
	return []Link{{Href: link(c, path, c.QueryParams()), Rel: "self", Type: media, Title: "This document"}}
}

// jsonResource checks the query of a JSON-only resource.
func jsonResource(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, resourceParams()); err != nil {
		return err
	}
	_, err := parseFormat(q, false)
	return err
}

func (h *Handler) landing(c echo.Context) error {
	if err := jsonResource(c); err != nil {
		return err
	}
	b := base(c)
	return writeJSON(c, http.StatusOK, Landing{
		Title:       h.opts.Title,
		Description: h.opts.Description,
		Links: append(selfLinks(c, "", mediaJSON),
			Link{Href: b + "/api", Rel: "service-desc", Type: mediaOpenAPI, Title: "API definition (OpenAPI 3.0)"},
			Link{Href: b + "/api?f=html", Rel: "service-doc", Type: mediaHTML, Title: "API documentation"},
			Link{Href: b + "/conformance", Rel: "conformance", Type: mediaJSON, Title: "Conformance classes implemented"},
			Link{Href: b + "/collections", Rel: "data", Type: mediaJSON, Title: "Feature collections"},
		),
	})
}

func (h *Handler) conformance(c echo.Context) error {
	if err := jsonResource(c); err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, Conformance{ConformsTo: conformance()})
}

func (h *Handler) api(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, resourceParams()); err != nil {
		return err
	}
	f, err := parseFormat(q, true)
	if err != nil {
		return err
	}
	doc := openAPI(base(c), h.opts, h.layers.Layers())
	if f == formatHTML {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		c.Response().WriteHeader(http.StatusOK)
		return writeAPIHTML(c.Response(), base(c), doc)
	}
	body, err := marshal(doc)
	if err != nil {
		return fmt.Errorf("encode the OpenAPI document: %w", err)
	}
	return c.Blob(http.StatusOK, mediaOpenAPI, body)
}

// collectionLinks are the links of a collection, in the list and on its own.
func collectionLinks(c echo.Context, id string) []Link {
	p := "/collections/" + id
	return []Link{
		{Href: link(c, p, nil), Rel: "self", Type: mediaJSON, Title: "This collection"},
		{Href: link(c, p+"/items", nil), Rel: "items", Type: mediaGeoJSON, Title: "Its features"},
	}
}

func (h *Handler) collections(c echo.Context) error {
	if err := jsonResource(c); err != nil {
		return err
	}
	out := Collections{Links: selfLinks(c, "/collections", mediaJSON), Collections: []Collection{}}
	for _, l := range h.layers.Layers() {
		out.Collections = append(out.Collections, newCollection(l, collectionLinks(c, l.Info.ID)))
	}
	return writeJSON(c, http.StatusOK, out)
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
	if err := jsonResource(c); err != nil {
		return err
	}
	// The same document as the list entry, as clients and the suite compare them.
	return writeJSON(c, http.StatusOK, newCollection(l, collectionLinks(c, l.Info.ID)))
}

func (h *Handler) items(c echo.Context) error {
	l, err := h.layer(c)
	if err != nil {
		return err
	}
	q, err := parseItems(c.QueryParams(), h.opts.DefaultLimit, h.opts.MaxLimit)
	if err != nil {
		return err
	}
	pg := selectPage(l, q)

	path := "/collections/" + l.Info.ID + "/items"
	links := selfLinks(c, path, mediaGeoJSON)
	pageLink := func(rel string, after uint64) Link {
		v := url.Values{}
		for k, vs := range c.QueryParams() {
			v[k] = vs
		}
		v.Del("after")
		if after > 0 {
			v.Set("after", strconv.FormatUint(after, 10))
		}
		return Link{Href: link(c, path, v), Rel: rel, Type: mediaGeoJSON, Title: rel + " page"}
	}
	if pg.hasNext {
		links = append(links, pageLink("next", pg.next))
	}
	if pg.hasPrev {
		links = append(links, pageLink("prev", pg.prev))
	}
	links = append(links, Link{Href: link(c, "/collections/"+l.Info.ID, nil), Rel: "collection", Type: mediaJSON, Title: "The collection"})

	ctx := c.Request().Context()
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, mediaGeoJSON)
	res.Header().Set("Content-Crs", "<"+CRS84+">")
	buf, err := appendCollectionStart(nil, pg.matched, len(pg.items), time.Now(), links)
	if err != nil {
		return err
	}
	res.WriteHeader(http.StatusOK)
	// Features go out one at a time through one small buffer, so a page of
	// 10000 large polygons never sits in memory as a whole.
	for i, idx := range pg.items {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("layer %q items: %w", l.Info.ID, err)
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, err = appendFeature(buf, l.At(idx), l.Info.Fields, nil); err != nil {
			return fmt.Errorf("layer %q: %w", l.Info.ID, err)
		}
		if _, err := res.Write(buf); err != nil {
			return fmt.Errorf("layer %q items: write: %w", l.Info.ID, err)
		}
		buf = buf[:0]
	}
	if _, err := res.Write(appendCollectionEnd(buf)); err != nil {
		return fmt.Errorf("layer %q items: write: %w", l.Info.ID, err)
	}
	return nil
}

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
	f, ok := l.Feature(id)
	if !ok {
		return notFound("no feature %d in collection %q", id, l.Info.ID)
	}
	q := c.QueryParams()
	if err := checkParams(q, itemParams()); err != nil {
		return err
	}
	if _, err := parseFormat(q, false); err != nil {
		return err
	}
	links := append(selfLinks(c, "/collections/"+l.Info.ID+"/items/"+fid, mediaGeoJSON),
		Link{Href: link(c, "/collections/"+l.Info.ID, nil), Rel: "collection", Type: mediaJSON, Title: "The collection"})
	body, err := appendFeature(nil, f, l.Info.Fields, links)
	if err != nil {
		return fmt.Errorf("layer %q: %w", l.Info.ID, err)
	}
	c.Response().Header().Set("Content-Crs", "<"+CRS84+">")
	return c.Blob(http.StatusOK, mediaGeoJSON, append(body, '\n'))
}
