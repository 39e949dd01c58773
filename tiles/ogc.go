package tiles

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// OGC API - Tiles - Part 1: Core (OGC 20-057) over the collections of OGC
// API - Features, with the one tile matrix set that web maps use.
const (
	tmsID           = "WebMercatorQuad"
	tmsURI          = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
	crs3857         = "http://www.opengis.net/def/crs/EPSG/0/3857"
	crs84           = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	relTilingScheme = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
	relGeodata      = "http://www.opengis.net/def/rel/ogc/1.0/geodata"

	// The extent of Web Mercator in metres, and the size of a pixel of a
	// 256-pixel tile at zoom 0 (2πr/256).
	mercatorHalf = 20037508.3427892
	cellSize0    = 156543.033928041
	// scaleDenominator = cellSize / 0.28 mm, the standardized pixel.
	pixelSize = 0.00028
)

type ogcLink struct {
	Href      string `json:"href"`
	Rel       string `json:"rel"`
	Type      string `json:"type,omitempty"`
	Title     string `json:"title,omitempty"`
	Templated bool   `json:"templated,omitempty"`
}

// registerOGC adds, each for GET, HEAD and a CORS preflight:
//
//	/ogc/tileMatrixSets                                           the tile matrix sets (one)
//	/ogc/tileMatrixSets/WebMercatorQuad                           its definition
//	/ogc/collections/{id}/tiles                                   the tilesets of a collection (one)
//	/ogc/collections/{id}/tiles/WebMercatorQuad                   the tileset
//	/ogc/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}      a tile: tileMatrix/tileRow/tileCol
//
// The landing page, the conformance classes and the collections' links to
// these belong to the features package.
func (h *Handler) registerOGC(e *echo.Echo) {
	route(e, "/ogc/tileMatrixSets", h.tileMatrixSets)
	route(e, "/ogc/tileMatrixSets/:tms", h.tileMatrixSet)
	route(e, "/ogc/collections/:id/tiles", h.tilesets)
	route(e, "/ogc/collections/:id/tiles/:tms", h.tileset)
	route(e, "/ogc/collections/:id/tiles/:tms/:z/:y/:x", h.ogcTile)
}

func ogcBase(c echo.Context) string { return origin(c) + "/ogc" }

func (h *Handler) tileMatrixSets(c echo.Context) error {
	b := ogcBase(c)
	return h.writeJSON(c, map[string]any{
		"links": []ogcLink{{Href: b + "/tileMatrixSets", Rel: "self", Type: echo.MIMEApplicationJSON, Title: "Tile matrix sets"}},
		"tileMatrixSets": []map[string]any{{
			"id": tmsID, "title": "Google Maps Compatible for the World", "uri": tmsURI, "crs": crs3857,
			"links": []ogcLink{{Href: b + "/tileMatrixSets/" + tmsID, Rel: "self", Type: echo.MIMEApplicationJSON, Title: "The tile matrix set"}},
		}},
	})
}

// tileMatrix is one zoom level of a tile matrix set in the JSON encoding of
// OGC 17-083r4 (2D Tile Matrix Set 2.0).
type tileMatrix struct {
	ID               string     `json:"id"`
	ScaleDenominator float64    `json:"scaleDenominator"`
	CellSize         float64    `json:"cellSize"`
	CornerOfOrigin   string     `json:"cornerOfOrigin"`
	PointOfOrigin    [2]float64 `json:"pointOfOrigin"`
	TileWidth        int        `json:"tileWidth"`
	TileHeight       int        `json:"tileHeight"`
	MatrixWidth      uint64     `json:"matrixWidth"`
	MatrixHeight     uint64     `json:"matrixHeight"`
}

func (h *Handler) tileMatrixSet(c echo.Context) error {
	if c.Param("tms") != tmsID {
		return jsonError(c, http.StatusNotFound, fmt.Sprintf("tile matrix set %q not found: there is only %s", c.Param("tms"), tmsID))
	}
	var matrices []tileMatrix
	for z := range h.opts.MaxZoom + 1 {
		cell := cellSize0 / math.Exp2(float64(z))
		n := uint64(1) << z
		matrices = append(matrices, tileMatrix{
			ID: strconv.Itoa(z), ScaleDenominator: cell / pixelSize, CellSize: cell,
			CornerOfOrigin: "topLeft", PointOfOrigin: [2]float64{-mercatorHalf, mercatorHalf},
			TileWidth: 256, TileHeight: 256, MatrixWidth: n, MatrixHeight: n,
		})
	}
	return h.writeJSON(c, map[string]any{
		"id":                tmsID,
		"title":             "Google Maps Compatible for the World",
		"uri":               tmsURI,
		"crs":               crs3857,
		"orderedAxes":       []string{"X", "Y"},
		"wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
		"boundingBox": map[string]any{
			"lowerLeft": [2]float64{-mercatorHalf, -mercatorHalf}, "upperRight": [2]float64{mercatorHalf, mercatorHalf}, "crs": crs3857,
		},
		"tileMatrices": matrices,
		"links":        []ogcLink{{Href: ogcBase(c) + "/tileMatrixSets/" + tmsID, Rel: "self", Type: echo.MIMEApplicationJSON, Title: "This document"}},
	})
}

// collection resolves the {id}, and the {tms} if there is one, of an OGC
// route; both are 404 when unknown.
func (h *Handler) collection(c echo.Context) (*catalog.Layer, error) {
	l, ok := h.layers.Layer(c.Param("id"))
	if !ok {
		return nil, fmt.Errorf("collection %q not found", c.Param("id"))
	}
	if tms := c.Param("tms"); tms != "" && tms != tmsID {
		return nil, fmt.Errorf("tile matrix set %q not found: there is only %s", tms, tmsID)
	}
	return l, nil
}

// tilesetSummary is what the tilesets list and the tileset share.
func tilesetSummary(c echo.Context, l *catalog.Layer) map[string]any {
	b := ogcBase(c)
	return map[string]any{
		"title":            cmp.Or(l.Info.Title, l.Info.ID),
		"dataType":         "vector",
		"crs":              crs3857,
		"tileMatrixSetURI": tmsURI,
		"links": []ogcLink{
			{Href: b + "/collections/" + l.Info.ID + "/tiles/" + tmsID, Rel: "self", Type: echo.MIMEApplicationJSON, Title: "The tileset in " + tmsID},
			{Href: b + "/tileMatrixSets/" + tmsID, Rel: relTilingScheme, Type: echo.MIMEApplicationJSON, Title: "The tile matrix set " + tmsID},
		},
	}
}

func (h *Handler) tilesets(c echo.Context) error {
	l, err := h.collection(c)
	if err != nil {
		return jsonError(c, http.StatusNotFound, err.Error())
	}
	return h.writeJSON(c, map[string]any{
		"links":    []ogcLink{{Href: ogcBase(c) + "/collections/" + l.Info.ID + "/tiles", Rel: "self", Type: echo.MIMEApplicationJSON, Title: "The tilesets of " + l.Info.ID}},
		"tilesets": []map[string]any{tilesetSummary(c, l)},
	})
}

func (h *Handler) tileset(c echo.Context) error {
	l, err := h.collection(c)
	if err != nil {
		return jsonError(c, http.StatusNotFound, err.Error())
	}
	b := ogcBase(c)
	ts := tilesetSummary(c, l)
	ts["description"] = l.Info.Description
	ts["links"] = append(ts["links"].([]ogcLink),
		ogcLink{Href: b + "/collections/" + l.Info.ID + "/tiles/" + tmsID + "/{tileMatrix}/{tileRow}/{tileCol}",
			Rel: "item", Type: MediaType, Templated: true, Title: "Vector tiles of " + l.Info.ID},
		ogcLink{Href: b + "/collections/" + l.Info.ID, Rel: relGeodata, Type: echo.MIMEApplicationJSON, Title: "The collection"},
	)
	bounds, _ := h.extent([]*catalog.Layer{l})
	ts["boundingBox"] = map[string]any{"lowerLeft": bounds[:2], "upperRight": bounds[2:], "crs": crs84}
	layer := map[string]any{
		"id": l.Info.ID, "title": cmp.Or(l.Info.Title, l.Info.ID), "dataType": "vector",
		"minTileMatrix": "0", "maxTileMatrix": strconv.Itoa(h.opts.MaxZoom),
		"propertiesSchema": propertiesSchema(l.Info.Fields),
	}
	if d, ok := map[string]int{"Point": 0, "LineString": 1, "Polygon": 2}[l.Info.GeometryType]; ok {
		layer["geometryDimension"] = d
	}
	ts["layers"] = []map[string]any{layer}
	return h.writeJSON(c, ts)
}

// propertiesSchema describes the attributes of a layer's features as JSON
// Schema, as the tileset metadata asks.
func propertiesSchema(fields []geo.Field) map[string]any {
	props := map[string]any{}
	for _, f := range fields {
		switch f.Type {
		case geo.Date:
			props[f.Name] = map[string]string{"type": "string", "format": "date"}
		case geo.DateTime:
			props[f.Name] = map[string]string{"type": "string", "format": "date-time"}
		case geo.Integer, geo.Number, geo.Boolean:
			props[f.Name] = map[string]string{"type": string(f.Type)}
		default:
			props[f.Name] = map[string]string{"type": "string"}
		}
	}
	return map[string]any{"type": "object", "properties": props}
}

// ogcTile serves /ogc/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}:
// row before column, the other way round from the XYZ URLs of TileJSON.
func (h *Handler) ogcTile(c echo.Context) error {
	l, err := h.collection(c)
	if err != nil {
		return jsonError(c, http.StatusNotFound, err.Error())
	}
	t, status, err := h.parseTile(c.Param("z"), c.Param("x"), c.Param("y"))
	if err != nil {
		return jsonError(c, status, err.Error())
	}
	return h.serveTile(c, l.Info.ID, []*catalog.Layer{l}, t)
}
