package features

import (
	"errors"
	"net/url"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/features/cql2"
	"github.com/csdi-hk/csdi/geo/crs"
)

// filtersAvailable turns on the filter parameters of Part 3.
const filtersAvailable = true

// filterClasses are the conformance classes of filtering with CQL2: those
// of Part 3 and every CQL2 class the cql2 package implements, spelled as
// clients look for them.
func filterClasses() []string {
	const part3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
	return append([]string{part3 + "filter", part3 + "features-filter",
		// The draft name under which QGIS turns spatial filters on.
		"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators"},
		cql2.Conformance()...)
}

// filter is a parsed CQL2 filter (Part 3), its geometries in WGS84.
type filter struct {
	expr cql2.Expr
	box  orb.Bound
	// boxed is whether the filter matches nothing outside box.
	boxed bool
}

func (f *filter) match(l *catalog.Layer, i int) bool {
	return cql2.EvalFeature(f.expr, item{l, i})
}

// item is a feature of a layer in memory as CQL2 reads it: through the
// layer, which keeps no properties map per feature.
type item struct {
	l *catalog.Layer
	i int
}

func (it item) Geom() orb.Geometry { return it.l.At(it.i).Geometry }

// Value is the property name, nil when missing (as CQL2 reads NULL).
func (it item) Value(name string) any {
	v, _ := it.l.Value(it.i, name)
	return v
}

// bound is the box outside which the filter matches nothing, if it has
// one: the R-tree narrows the search to it.
func (f *filter) bound() (orb.Bound, bool) {
	if f == nil {
		return orb.Bound{}, false
	}
	return f.box, f.boxed
}

// parseFilter reads filter, filter-lang and filter-crs, and checks the
// filter against the layer's fields.
func (h *Handler) parseFilter(q url.Values, l *catalog.Layer) (*filter, error) {
	s, err := single(q, "filter")
	if err != nil {
		return nil, err
	}
	lang, err := single(q, "filter-lang")
	if err != nil {
		return nil, err
	}
	in, err := parseCRS(q, "filter-crs")
	if err != nil {
		return nil, err
	}
	if _, ok := q["filter"]; !ok {
		for _, p := range []string{"filter-lang", "filter-crs"} {
			if _, ok := q[p]; ok {
				return nil, invalidParam(p, "given without filter")
			}
		}
		return nil, nil
	}
	var e cql2.Expr
	switch lang {
	case "", "cql2-text":
		e, err = cql2.ParseText(s)
	case "cql2-json":
		e, err = cql2.ParseJSON([]byte(s))
	default:
		return nil, invalidParam("filter-lang", "%q is not offered; use cql2-text (the default) or cql2-json", lang)
	}
	var se *cql2.SyntaxError
	switch {
	case errors.As(err, &se):
		// Pos is a byte offset; people count characters, from 1.
		at := utf8.RuneCountInString(s[:min(max(se.Pos, 0), len(s))]) + 1
		return nil, invalidParam("filter", "syntax error at character %d: %s", at, se.Msg)
	case err != nil:
		return nil, invalidParam("filter", "%v", err)
	}
	// Geometry literals come in filter-crs, with its axis order; CRS84
	// needs no conversion, and only there may a BBOX cross the
	// antimeridian.
	var toWGS84 func(orb.Geometry) (orb.Geometry, error)
	if in != crs.CRS84 {
		toWGS84 = func(g orb.Geometry) (orb.Geometry, error) {
			g = orb.Clone(g)
			if in.NorthFirst() {
				g = project.Geometry(g, func(p orb.Point) orb.Point { return orb.Point{p[1], p[0]} })
			}
			return crs.ToWGS84(in, g), nil
		}
	}
	if e, err = cql2.Resolve(e, l.Info.Fields, toWGS84); err != nil {
		return nil, invalidParam("filter", "%v", err)
	}
	f := &filter{expr: e}
	f.box, f.boxed = cql2.Bounds(e)
	return f, nil
}
