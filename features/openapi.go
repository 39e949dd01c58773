package features

import (
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/csdi-hk/csdi/catalog"
)

type obj = map[string]any

// openAPI builds the OpenAPI 3.0 document of the live catalog, served from
// base (the absolute URL of /ogc). Every collection gets concrete paths, as
// GDAL and the conformance suite read parameters from
// /collections/<id>/items; the parameters themselves live once under
// components.parameters, where QGIS reads the limit's default and maximum.
func openAPI(base string, opts Options, layers []*catalog.Layer) obj {
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

	paths := obj{
		"/": get("getLandingPage", "Landing page", params(resourceParams()), responses("LandingPage", "400", "406")),
		"/conformance": get("getConformanceDeclaration", "Conformance classes implemented",
			params(resourceParams()), responses("ConformanceDeclaration", "400", "406")),
		"/api": get("getAPIDefinition", "This API definition (f=html for a readable list of paths)",
			[]any{obj{"name": "f", "in": "query", "required": false, "style": "form", "explode": false,
				"schema": obj{"type": "string", "enum": []string{"json", "html"}}}},
			responses("APIDefinition", "400", "406")),
		"/collections": get("getCollections", "Feature collections", params(resourceParams()),
			responses("Collections", "400", "406")),
	}
	for _, l := range layers {
		id := l.Info.ID
		p := "/collections/" + id
		paths[p] = get("describeCollection_"+id, "Metadata of "+id, params(resourceParams()),
			responses("Collection", "400", "404", "406"))
		paths[p+"/items"] = get("getFeatures_"+id, "Features of "+id, params(itemsParams()),
			responses("Features", "400", "404", "406"))
		paths[p+"/items/{featureId}"] = get("getFeature_"+id, "One feature of "+id,
			append([]any{ref("parameters", "featureId")}, params(itemParams())...),
			responses("Feature", "400", "404", "406"))
	}

	content := func(media string, schema obj) obj { return obj{media: obj{"schema": schema}} }
	response := func(desc string, c obj) obj { return obj{"description": desc, "content": c} }
	jsonResponse := func(desc, schema string) obj { return response(desc, content(mediaJSON, ref("schemas", schema))) }
	str, num := obj{"type": "string"}, obj{"type": "number"}
	links := obj{"type": "array", "items": ref("schemas", "link")}
	object := func(required []string, props obj) obj {
		o := obj{"type": "object", "properties": props}
		if required != nil {
			o["required"] = required
		}
		return o
	}
	query := func(name, desc string, schema obj) obj {
		return obj{"name": name, "in": "query", "required": false, "style": "form", "explode": false,
			"description": desc, "schema": schema}
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
			"parameters": obj{
				"f": query("f", "Encoding of the response; json and geojson are the same here.",
					obj{"type": "string", "enum": []string{"json", "geojson"}}),
				"limit": query("limit", "Number of features per page; a larger value is lowered to the maximum.",
					obj{"type": "integer", "minimum": 1, "maximum": opts.MaxLimit, "default": opts.DefaultLimit}),
				"bbox": query("bbox", "Only features whose geometry intersects this box: west,south,east,north "+
					"(or west,south,min height,east,north,max height) in CRS84. West greater than east crosses the antimeridian.",
					obj{"type": "array", "minItems": 4, "maxItems": 6, "items": num}),
				"after": query("after", "Paging cursor: only features whose id is greater than this. "+
					"The next and prev links set it; features come in ascending id order.",
					obj{"type": "integer", "format": "int64", "minimum": 0}),
				"featureId": obj{"name": "featureId", "in": "path", "required": true,
					"description": "Id of a feature, a positive integer.",
					"schema":      obj{"type": "integer", "format": "int64", "minimum": 1}},
			},
			"responses": obj{
				"LandingPage":            jsonResponse("Links to the API definition, the conformance declaration and the collections.", "landingPage"),
				"ConformanceDeclaration": jsonResponse("Conformance classes implemented.", "confClasses"),
				"Collections":            jsonResponse("The feature collections.", "collections"),
				"Collection":             jsonResponse("One feature collection.", "collection"),
				"APIDefinition": response("This document.", obj{
					mediaOpenAPI: obj{"schema": obj{"type": "object"}},
					mediaHTML:    obj{"schema": str},
				}),
				"Features": response("A page of features, in ascending id order.",
					content(mediaGeoJSON, ref("schemas", "featureCollectionGeoJSON"))),
				"Feature":          response("One feature.", content(mediaGeoJSON, ref("schemas", "featureGeoJSON"))),
				"InvalidParameter": jsonResponse("A query parameter is unknown or has an invalid value.", "exception"),
				"NotFound":         jsonResponse("No such collection or feature.", "exception"),
				"NotAcceptable":    jsonResponse("The encoding asked for with f is not offered.", "exception"),
				"ServerError":      jsonResponse("The server failed.", "exception"),
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
					"crs": obj{"type": "array", "items": str},
					"extent": object(nil, obj{"spatial": object(nil, obj{
						"bbox": obj{"type": "array", "minItems": 1, "items": obj{
							"type": "array", "minItems": 4, "maxItems": 6, "items": num}},
						"crs": str,
					})}),
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

// apiHTML is the human-readable API definition (the service-doc): the paths
// with their summaries, the concrete ones linked.
var apiHTML = template.Must(template.New("api").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}: API</title></head>
<body><h1>{{.Title}}</h1><p>{{.Description}}</p>
<p>Machine-readable definition: <a href="{{.Base}}/api">OpenAPI 3.0 (JSON)</a>.</p>
<ul>{{range .Paths}}<li>{{if .Link}}<a href="{{$.Base}}{{.Path}}">{{.Path}}</a>{{else}}{{.Path}}{{end}}: {{.Summary}}</li>
{{end}}</ul></body></html>
`))

func writeAPIHTML(w io.Writer, base string, doc obj) error {
	type path struct {
		Path, Summary string
		Link          bool
	}
	paths := doc["paths"].(obj)
	var list []path
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		op := paths[p].(obj)["get"].(obj)
		list = append(list, path{Path: p, Summary: op["summary"].(string), Link: !strings.Contains(p, "{")})
	}
	info := doc["info"].(obj)
	return apiHTML.Execute(w, obj{"Title": info["title"], "Description": info["description"], "Base": base, "Paths": list})
}
