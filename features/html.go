package features

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// The HTML encoding: one page per resource, built from the same document
// as its JSON, with html/template escaping every value from the data.

const layoutHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · {{.Site}}</title>
<link rel="alternate" type="application/json" href="{{.JSON}}">
{{- if .Map}}
<link rel="stylesheet" href="/vendor/maplibre-gl.css">
<script src="/vendor/maplibre-gl.js"></script>{{end}}
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2529}
header{background:#1d4e6e;color:#fff;padding:.6em 1.2em;display:flex;justify-content:space-between}
header a{color:#fff}main{padding:1em 1.2em;max-width:75em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #cfd8dc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eef2f3}#map{height:24em;border:1px solid #cfd8dc;margin:.5em 0}
.zh{font-size:1.1em;color:#37474f}.paging a{margin-right:1em}code{font-size:.9em}
</style></head>
<body><header><nav><a href="{{.Base}}">{{.Site}}</a>{{range .Crumbs}} › {{if .Href}}<a href="{{.Href}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}{{end}}</nav>
<a href="{{.JSON}}">JSON</a></header>
<main>{{template "content" .}}</main></body></html>
{{define "titles"}}<h1>{{.Title}}</h1>{{if .TitleZH}}<p class="zh" lang="zh-Hant">{{.TitleZH}}</p>{{end}}{{end}}
{{define "links"}}<ul>{{range .}}<li><a href="{{.Href}}">{{if .Title}}{{.Title}}{{else}}{{.Href}}{{end}}</a> <small>({{.Rel}}, {{.Type}})</small></li>{{end}}</ul>{{end}}
{{define "map"}}<div id="map"></div>
<script>
(function () {
  const data = {{.Features}};
  const bounds = {{.Bounds}};
  const items = {{.ItemsURL}};
  if (typeof maplibregl === "undefined") { document.getElementById("map").textContent = "The map needs MapLibre from /vendor/."; return; }
  const map = new maplibregl.Map({container: "map", attributionControl: false,
    style: {version: 8, sources: {}, layers: [{id: "bg", type: "background", paint: {"background-color": "#eef2f3"}}]},
    center: [114.17, 22.32], zoom: 9});
  const kind = (...types) => ["match", ["geometry-type"], types, true, false];
  map.on("load", () => {
    map.addSource("f", {type: "geojson", data});
    map.addLayer({id: "fill", type: "fill", source: "f", filter: kind("Polygon", "MultiPolygon"), paint: {"fill-color": "#2a7ab0", "fill-opacity": 0.3}});
    map.addLayer({id: "line", type: "line", source: "f", filter: kind("LineString", "MultiLineString", "Polygon", "MultiPolygon"), paint: {"line-color": "#1d5a85", "line-width": 1.5}});
    map.addLayer({id: "point", type: "circle", source: "f", filter: kind("Point", "MultiPoint"), paint: {"circle-radius": 5, "circle-color": "#c0392b", "circle-stroke-color": "#fff", "circle-stroke-width": 1}});
    if (bounds) map.fitBounds(bounds, {padding: 30, maxZoom: 17, duration: 0});
    // How many features are drawn, for tests and the curious.
    map.once("idle", () => {
      const drawn = map.queryRenderedFeatures({layers: ["fill", "line", "point"]});
      document.getElementById("map").dataset.drawn = new Set(drawn.map(f => f.id)).size;
    });
    for (const l of ["fill", "line", "point"]) {
      map.on("click", l, e => { location.href = items + "/" + e.features[0].id + "?f=html"; });
      map.on("mouseenter", l, () => { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", l, () => { map.getCanvas().style.cursor = ""; });
    }
  });
})();
</script>{{end}}`

var pageHTML = map[string]string{
	"landing": `{{with .Data}}<h1>{{.Title}}</h1><p>{{.Description}}</p>{{template "links" .Links}}{{end}}`,

	"conformance": `<h1>Conformance classes</h1><ul>{{range .Data.ConformsTo}}<li><code>{{.}}</code></li>{{end}}</ul>`,

	"api": `{{with .Data}}<h1>{{.Title}}</h1><p>{{.Description}}</p>
<p>Machine-readable definition: <a href="{{.Base}}/api">OpenAPI 3.0 (JSON)</a>.</p>
{{range .Paths}}<h2>GET {{if .Link}}<a href="{{.Link}}">{{.Path}}</a>{{else}}{{.Path}}{{end}}</h2><p>{{.Summary}}</p>
{{if .Params}}<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}{{end}}{{end}}`,

	"collections": `<h1>Collections</h1><table><tr><th>Collection</th><th>Title</th><th lang="zh-Hant">標題</th><th>Description</th><th>Features</th></tr>
{{range .Data.Collections}}<tr><td><a href="{{$.Base}}/collections/{{.ID}}?f=html">{{.ID}}</a></td><td>{{.Title}}</td><td lang="zh-Hant">{{.TitleZH}}</td>
<td>{{.Description}}{{if .DescriptionZH}}<br><span lang="zh-Hant">{{.DescriptionZH}}</span>{{end}}</td>
<td><a href="{{$.Base}}/collections/{{.ID}}/items?f=html">browse</a> · <a href="{{$.Base}}/collections/{{.ID}}/items">GeoJSON</a></td></tr>
{{end}}</table>`,

	"collection": `{{with .Data}}{{template "titles" .}}<p>{{.Description}}</p>{{if .DescriptionZH}}<p lang="zh-Hant">{{.DescriptionZH}}</p>{{end}}
<table>{{if .Attribution}}<tr><th>Attribution</th><td>{{.Attribution}}</td></tr>{{end}}
{{with .Extent}}{{with .Spatial}}<tr><th>Extent</th><td>{{range .BBox}}{{.}}{{end}} ({{.CRS}})</td></tr>{{end}}
{{with .Temporal}}<tr><th>Time</th><td>{{range .Interval}}{{with index . 0}}{{.}}{{else}}..{{end}} / {{with index . 1}}{{.}}{{else}}..{{end}}{{end}}</td></tr>{{end}}{{end}}
<tr><th>CRS</th><td>{{range .CRS}}<code>{{.}}</code><br>{{end}}</td></tr><tr><th>Storage CRS</th><td><code>{{.StorageCRS}}</code></td></tr></table>
<h2>Links</h2>{{template "links" .Links}}{{end}}`,

	"items": `{{with .Data}}{{template "titles" .}}
<p>{{.Returned}} of {{.Matched}} features.</p>{{template "map" .}}
<p class="paging">{{with .Prev}}<a href="{{.}}">‹ previous page</a>{{end}}{{with .Next}}<a href="{{.}}">next page ›</a>{{end}}</p>
<table><tr><th>id</th>{{range .Fields}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td><a href="{{.Href}}">{{.ID}}</a></td>{{range .Values}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<p class="paging">{{with .Prev}}<a href="{{.}}">‹ previous page</a>{{end}}{{with .Next}}<a href="{{.}}">next page ›</a>{{end}}</p>{{end}}`,

	"feature": `{{with .Data}}<h1>{{.Title}}: feature {{.ID}}</h1>{{if .TitleZH}}<p class="zh" lang="zh-Hant">{{.TitleZH}}</p>{{end}}{{template "map" .}}
<table>{{range $i, $f := .Fields}}<tr><th>{{$f}}</th><td>{{index $.Data.Values $i}}</td></tr>{{end}}</table>{{end}}`,
}

var pages = func() map[string]*template.Template {
	layout := template.Must(template.New("layout").Parse(layoutHTML))
	m := map[string]*template.Template{}
	for name, content := range pageHTML {
		m[name] = template.Must(template.Must(layout.Clone()).New("content").Parse(content))
	}
	return m
}()

// crumb is a step of the breadcrumb trail; the current page has no Href.
type crumb struct{ Name, Href string }

// crumbs leads to a collection, or to its items.
func (h *Handler) crumbs(c echo.Context, l *catalog.Layer, items bool) []crumb {
	b := base(c)
	out := []crumb{{"Collections", b + "/collections?f=html"}, {l.Info.ID, ""}}
	if items {
		out[1].Href = b + "/collections/" + l.Info.ID + "?f=html"
		out = append(out, crumb{"Items", ""})
	}
	return out
}

// html renders a page; data is the resource's document or what the page
// shows of it.
func (h *Handler) html(c echo.Context, name, title string, crumbs []crumb, data any) error {
	q := maps.Clone(c.QueryParams())
	q.Set("f", "json")
	page := struct {
		Site, Base, Title, JSON string
		Crumbs                  []crumb
		Map                     bool
		Data                    any
	}{h.opts.Title, base(c), title, link(c, strings.TrimPrefix(c.Request().URL.Path, "/ogc"), q), crumbs,
		name == "items" || name == "feature", data}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", page); err != nil {
		return fmt.Errorf("render the %s page: %w", name, err)
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// featuresPage is what the items and feature pages show.
type featuresPage struct {
	Title, TitleZH    string
	ID                uint64 // of the feature page
	Matched, Returned int
	Next, Prev        string
	Fields            []string
	Rows              []featureRow
	Values            []string // of the feature page
	// For the map: the features in WGS84, their bounds as
	// [[west,south],[east,north]] (nil without features) and the items URL.
	Features json.RawMessage
	Bounds   [][2]float64
	ItemsURL string
}

type featureRow struct {
	ID     uint64
	Href   string
	Values []string
}

func newFeaturesPage(c echo.Context, l *catalog.Layer, idx []int) (featuresPage, error) {
	p := featuresPage{Title: l.Info.Title, TitleZH: l.Info.TitleZH,
		ItemsURL: link(c, "/collections/"+l.Info.ID+"/items", nil)}
	if p.Title == "" {
		p.Title = l.Info.ID
	}
	for _, fd := range l.Info.Fields {
		p.Fields = append(p.Fields, fd.Name)
	}
	fc := geojson.NewFeatureCollection()
	var b orb.Bound
	for i, fi := range idx {
		f := l.At(fi)
		row := featureRow{ID: f.ID, Href: p.ItemsURL + "/" + strconv.FormatUint(f.ID, 10) + "?f=html"}
		for _, fd := range l.Info.Fields {
			row.Values = append(row.Values, formatValue(item{l, fi}.Value(fd.Name), fd.Type))
		}
		p.Rows = append(p.Rows, row)
		gf := geojson.NewFeature(f.Geometry)
		gf.ID = f.ID
		fc.Append(gf)
		if i == 0 {
			b = f.Geometry.Bound()
		} else {
			b = b.Union(f.Geometry.Bound())
		}
	}
	if len(idx) > 0 {
		p.Bounds = [][2]float64{{b.Min[0], b.Min[1]}, {b.Max[0], b.Max[1]}}
	}
	var err error
	if p.Features, err = json.Marshal(fc); err != nil {
		return p, fmt.Errorf("layer %q: encode the map's features: %w", l.Info.ID, err)
	}
	return p, nil
}

func (h *Handler) itemsHTML(c echo.Context, l *catalog.Layer, pg page, links []Link) error {
	p, err := newFeaturesPage(c, l, pg.items)
	if err != nil {
		return err
	}
	p.Matched, p.Returned = pg.matched, len(pg.items)
	for _, ln := range links {
		switch ln.Rel {
		case "next":
			p.Next = ln.Href
		case "prev":
			p.Prev = ln.Href
		}
	}
	return h.html(c, "items", p.Title, h.crumbs(c, l, true), p)
}

func (h *Handler) featureHTML(c echo.Context, l *catalog.Layer, i int, _ []Link) error {
	p, err := newFeaturesPage(c, l, []int{i})
	if err != nil {
		return err
	}
	f := l.At(i)
	p.ID, p.Values = f.ID, p.Rows[0].Values
	crumbs := append(h.crumbs(c, l, true), crumb{strconv.FormatUint(f.ID, 10), ""})
	crumbs[2].Href = p.ItemsURL + "?f=html"
	return h.html(c, "feature", fmt.Sprintf("%s %d", p.Title, f.ID), crumbs, p)
}

// formatValue writes a property value as the JSON encoding does, without
// the quotes; null is empty.
func formatValue(v any, t geo.FieldType) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		if t == geo.Date {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339Nano)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// apiDoc is the service-doc page: the OpenAPI document's paths, each with
// its parameters resolved from components.
type apiDoc struct {
	Title, Description, Base string
	Paths                    []apiPath
}

type apiPath struct {
	Path, Link, Summary string
	Params              []apiParam
}

type apiParam struct{ Name, In, Type, Description string }

func apiPage(doc obj) apiDoc {
	info := doc["info"].(obj)
	base := doc["servers"].([]any)[0].(obj)["url"].(string)
	shared := doc["components"].(obj)["parameters"].(obj)
	out := apiDoc{Title: info["title"].(string), Description: info["description"].(string), Base: base}
	paths := doc["paths"].(obj)
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		op := paths[p].(obj)["get"].(obj)
		ap := apiPath{Path: p, Summary: op["summary"].(string)}
		if !strings.Contains(p, "{") {
			ap.Link = base + p + "?f=html"
		}
		for _, raw := range op["parameters"].([]any) {
			prm := raw.(obj)
			if ref, ok := prm["$ref"].(string); ok {
				prm = shared[strings.TrimPrefix(ref, "#/components/parameters/")].(obj)
			}
			typ, _ := prm["schema"].(obj)["type"].(string)
			desc, _ := prm["description"].(string)
			ap.Params = append(ap.Params, apiParam{prm["name"].(string), prm["in"].(string), typ, desc})
		}
		out.Paths = append(out.Paths, ap)
	}
	return out
}
