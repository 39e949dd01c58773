package features

import (
	"github.com/csdi-hk/csdi/catalog"
)

type obj = map[string]any

// openAPI builds the OpenAPI 3.0 document of the live catalog, served from
// base (the absolute URL of /ogc). Every collection gets concrete paths, as
// GDAL and the conformance suite read parameters from
// /collections/<id>/items; the parameters themselves live once under
// components.parameters, where QGIS reads the limit's default and maximum,
// except the property filters, which differ by collection.
func (h *Handler) openAPI(base string, layers []*catalog.Layer) obj {
	opts := h.opts
	ref := func(kind, name string) obj { return obj{"$ref": "#/components/" + kind + "/" + name} }
	params := func(names []string) []any {
		out := make([]any, len(names))
		for i, n := range names {
			out[i] = ref("parameters", n)
		}
		return out
	}
	responses := func(ok string, errs ...string) obj {
		r := obj{"200": ref("responses", ok), "500": ref("responses", "ServerError")}
		for _, code := range errs {
			r[code] = ref("responses", map[string]string{"400": "InvalidParameter", "404": "NotFound", "406": "NotAcceptable"}[code])
		}
		return r
	}
	get := func(id, summary string, ps []any, resp obj) obj {
		return obj{"get": obj{"operationId": id, "summary": summary, "parameters": ps, "responses": resp}}
	}
	query := func(name, desc string, schema obj) obj {
		return obj{"name": name, "in": "query", "required": false, "style": "form", "explode": false,
			"description": desc, "schema": schema}
	}

	paths := obj{
		"/": get("getLandingPage", "Landing page", params(resourceParams()), responses("LandingPage", "400", "406")),
		"/conformance": get("getConformanceDeclaration", "Conformance classes implemented",
			params(resourceParams()), responses("ConformanceDeclaration", "400", "406")),
		"/api": get("getAPIDefinition", "This API definition (f=html for a readable page)",
			params(resourceParams()), responses("APIDefinition", "400", "406")),
		"/collections": get("getCollections", "Feature collections", params(resourceParams()),
			responses("Collections", "400", "406")),
	}
	for _, l := range layers {
		id := l.Info.ID
		p := "/collections/" + id
		paths[p] = get("describeCollection_"+id, "Metadata of "+id, params(resourceParams()),
			responses("Collection", "400", "404", "406"))
		items := params(h.itemsParams())
		for _, fd := range h.propertyParams(l) {
			schema := fieldSchema(fd)
			delete(schema, "title")
			items = append(items, query(fd.Name, "Only features whose "+fd.Name+" equals this value.", schema))
		}
		paths[p+"/items"] = get("getFeatures_"+id, "Features of "+id, items,
			responses("Features", "400", "404", "406"))
		paths[p+"/items/{featureId}"] = get("getFeature_"+id, "One feature of "+id,
			append([]any{ref("parameters", "featureId")}, params(itemParams())...),
			responses("Feature", "400", "404", "406"))
		paths[p+"/queryables"] = get("getQueryables_"+id, "The properties of "+id+" that filters, sortby and property parameters take",
			[]any{query("f", "Encoding of the response.", obj{"type": "string", "enum": []string{"json"}})},
			responses("Queryables", "400", "404", "406"))
		paths[p+"/sortables"] = get("getSortables_"+id, "The properties of "+id+" that sortby takes",
			[]any{query("f", "Encoding of the response.", obj{"type": "string", "enum": []string{"json"}})},
			responses("Sortables", "400", "404", "406"))
	}

	if opts.Tiles {
		// Served by the tiles package; declared here, where the document is.
		path := func(name, desc string, schema obj) obj {
			return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": schema}
		}
		tms := path("tileMatrixSetId", "The tile matrix set.", obj{"type": "string", "enum": []string{"WebMercatorQuad"}})
		tile := []any{tms,
			path("tileMatrix", "Zoom level.", obj{"type": "string", "pattern": "^[0-9]+$"}),
			path("tileRow", "Row, 0 at the top.", obj{"type": "integer", "minimum": 0}),
			path("tileCol", "Column, 0 at the left.", obj{"type": "integer", "minimum": 0})}
		ok := func(desc, media string, schema obj) obj {
			return obj{"200": obj{"description": desc, "content": obj{media: obj{"schema": schema}}}, "404": ref("responses", "NotFound")}
		}
		object := obj{"type": "object"}
		paths["/tileMatrixSets"] = get("getTileMatrixSetsList", "Tile matrix sets", []any{}, ok("The tile matrix sets.", mediaJSON, object))
		paths["/tileMatrixSets/{tileMatrixSetId}"] = get("getTileMatrixSet", "A tile matrix set", []any{tms}, ok("Its definition.", mediaJSON, object))
		for _, l := range layers {
			id, p := l.Info.ID, "/collections/"+l.Info.ID+"/tiles"
			paths[p] = get("getTileSetsList_"+id, "Vector tilesets of "+id, []any{}, ok("The tilesets.", mediaJSON, object))
			paths[p+"/{tileMatrixSetId}"] = get("getTileSet_"+id, "Vector tileset of "+id, []any{tms}, ok("The tileset.", mediaJSON, object))
			mvt := ok("A Mapbox Vector Tile.", "application/vnd.mapbox-vector-tile", obj{"type": "string", "format": "binary"})
			mvt["204"] = obj{"description": "An empty tile inside the tile matrix."}
			paths[p+"/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"] = get("getTile_"+id, "A vector tile of "+id, tile, mvt)
		}
	}

	crsParam := func(name, desc string) obj {
		return query(name, desc, obj{"type": "string", "format": "uri", "enum": crsURIs()})
	}
	parameters := obj{
		"f": query("f", "Encoding of the response: json (GeoJSON for features) or html. Without it the Accept header decides.",
			obj{"type": "string", "enum": []string{"json", "geojson", "html"}}),
		"limit": query("limit", "Number of features per page; a larger value is lowered to the maximum.",
			obj{"type": "integer", "minimum": 1, "maximum": opts.MaxLimit, "default": opts.DefaultLimit}),
		"bbox": query("bbox", "Only features whose geometry intersects this box: two corners, lower then upper, "+
			"optionally with heights, in the axis order of bbox-crs: west,south,east,north in CRS84 (the default). "+
			"West greater than east crosses the antimeridian.",
			obj{"type": "array", "minItems": 4, "maxItems": 6, "items": obj{"type": "number"}}),
		"bbox-crs": crsParam("bbox-crs", "CRS of bbox, one of the collection's crs; default CRS84."),
		"crs":      crsParam("crs", "CRS of the geometries returned, with its axis order, one of the collection's crs; default CRS84. The Content-Crs header names it."),
		"datetime": query("datetime", "Only features whose time (the first date or date-time property; a date lasts the whole day) meets this "+
			"RFC 3339 instant or interval start/end; an open end is .. or empty, and one end may be an ISO 8601 duration (2024-01-01T00:00:00Z/P2D). "+
			"On a collection without a time property it selects every feature.",
			obj{"type": "string"}),
		"sortby": query("sortby", "Order of the features: queryable properties, each + (ascending, the default) or - (descending); ids break ties. "+
			"Without it features come in ascending id order.",
			obj{"type": "array", "minItems": 1, "items": obj{"type": "string", "pattern": `^[+-]?[^+\-\s].*$`}}),
		"after": query("after", "Paging cursor: the id of the last feature of the previous page. "+
			"The next and prev links set it.",
			obj{"type": "integer", "format": "int64", "minimum": 0}),
		"featureId": obj{"name": "featureId", "in": "path", "required": true,
			"description": "Id of a feature, a positive integer.",
			"schema":      obj{"type": "integer", "format": "int64", "minimum": 1}},
	}
	if h.filters {
		parameters["filter"] = query("filter", "A CQL2 filter on the queryables, ANDed with the other filters.", obj{"type": "string"})
		parameters["filter-lang"] = query("filter-lang", "Encoding of filter; default cql2-text.",
			obj{"type": "string", "enum": []string{"cql2-text", "cql2-json"}, "default": "cql2-text"})
		parameters["filter-crs"] = crsParam("filter-crs", "CRS of the geometries in filter, with its axis order; default CRS84.")
	}

	content := func(media string, schema obj) obj { return obj{media: obj{"schema": schema}} }
	response := func(desc string, c obj) obj { return obj{"description": desc, "content": c} }
	html := obj{"schema": obj{"type": "string"}}
	errResponse := func(desc string) obj { return response(desc, content(mediaJSON, ref("schemas", "exception"))) }
	jsonResponse := func(desc, schema string) obj {
		return response(desc, obj{mediaJSON: obj{"schema": ref("schemas", schema)}, mediaHTML: html})
	}
	str, num := obj{"type": "string"}, obj{"type": "number"}
	links := obj{"type": "array", "items": ref("schemas", "link")}
	object := func(required []string, props obj) obj {
		o := obj{"type": "object", "properties": props}
		if required != nil {
			o["required"] = required
		}
		return o
	}

	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       opts.Title,
			"description": opts.Description,
			"version":     "1.0.0",
		},
		"servers": []any{obj{"url": base}},
		"paths":   paths,
		"components": obj{
			"parameters": parameters,
			"responses": obj{
				"LandingPage":            jsonResponse("Links to the API definition, the conformance declaration and the collections.", "landingPage"),
				"ConformanceDeclaration": jsonResponse("Conformance classes implemented.", "confClasses"),
				"Collections":            jsonResponse("The feature collections.", "collections"),
				"Collection":             jsonResponse("One feature collection.", "collection"),
				"APIDefinition": response("This document.", obj{
					mediaOpenAPI: obj{"schema": obj{"type": "object"}},
					mediaHTML:    obj{"schema": str},
				}),
				"Features": response("A page of features, in ascending id order unless sortby says otherwise.",
					obj{mediaGeoJSON: obj{"schema": ref("schemas", "featureCollectionGeoJSON")}, mediaHTML: html}),
				"Feature": response("One feature.", obj{mediaGeoJSON: obj{"schema": ref("schemas", "featureGeoJSON")}, mediaHTML: html}),
				"Queryables": response("The queryable properties as JSON Schema 2020-12.",
					content(mediaSchema, obj{"type": "object"})),
				"Sortables": response("The sortable properties as JSON Schema 2020-12.",
					content(mediaSchema, obj{"type": "object"})),
				"InvalidParameter": errResponse("A query parameter is unknown or has an invalid value; the description names it."),
				"NotFound":         errResponse("No such collection or feature."),
				"NotAcceptable":    errResponse("The encoding asked for with f or Accept is not offered."),
				"ServerError":      errResponse("The server failed."),
			},
			"schemas": obj{
				"exception": object([]string{"code"}, obj{"code": str, "description": str}),
				"link": object([]string{"href", "rel", "type"}, obj{
					"href": str, "rel": str, "type": str, "title": str}),
				"landingPage": object([]string{"links"}, obj{"title": str, "description": str, "links": links}),
				"confClasses": object([]string{"conformsTo"}, obj{
					"conformsTo": obj{"type": "array", "items": str}}),
				"collections": object([]string{"links", "collections"}, obj{
					"links": links, "collections": obj{"type": "array", "items": ref("schemas", "collection")}}),
				"collection": object([]string{"id", "links"}, obj{
					"id": str, "title": str, "title_zh": str, "description": str, "description_zh": str,
					"attribution": str, "itemType": str, "links": links,
					"crs":        obj{"type": "array", "items": str},
					"storageCrs": str,
					"extent": object(nil, obj{
						"spatial": object(nil, obj{
							"bbox": obj{"type": "array", "minItems": 1, "items": obj{
								"type": "array", "minItems": 4, "maxItems": 6, "items": num}},
							"crs": str,
						}),
						"temporal": object(nil, obj{
							"interval": obj{"type": "array", "minItems": 1, "items": obj{
								"type": "array", "minItems": 2, "maxItems": 2, "items": obj{"type": "string", "format": "date-time", "nullable": true}}},
							"trs": str,
						}),
					}),
				}),
				"featureCollectionGeoJSON": object([]string{"type", "features"}, obj{
					"type":           obj{"type": "string", "enum": []string{"FeatureCollection"}},
					"features":       obj{"type": "array", "items": ref("schemas", "featureGeoJSON")},
					"links":          links,
					"timeStamp":      obj{"type": "string", "format": "date-time"},
					"numberMatched":  obj{"type": "integer", "minimum": 0},
					"numberReturned": obj{"type": "integer", "minimum": 0},
				}),
				"featureGeoJSON": object([]string{"type", "geometry", "properties"}, obj{
					"type":       obj{"type": "string", "enum": []string{"Feature"}},
					"id":         obj{"type": "integer", "format": "int64"},
					"geometry":   obj{"type": "object", "nullable": true, "required": []string{"type"}, "properties": obj{"type": str}},
					"properties": obj{"type": "object", "nullable": true},
					"links":      links,
				}),
			},
		},
	}
}
