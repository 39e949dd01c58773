package features

import (
	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/features/cql2"
	"github.com/csdi-hk/csdi/geo"
)

// queryables describes the properties of l that filters, sortby and the
// ?name=value parameters take, as a JSON Schema 2020-12 document whose $id
// is its URL (Part 3).
func queryables(id string, l *catalog.Layer) obj {
	props := obj{"geometry": obj{
		"title":       "Geometry",
		"description": "The feature's geometry, for spatial filters.",
		"format":      geometryFormat(l.Info.GeometryType),
		"x-ogc-role":  "primary-geometry",
	}}
	for _, fd := range l.Info.Fields {
		// In a filter, geometry in a spatial function is the feature's
		// geometry; clients find spatial filtering by that queryable, so a
		// field of the same name does not displace it. The field stays a
		// ?geometry= parameter and can still be compared in a filter.
		if fd.Name != cql2.GeometryProperty {
			props[fd.Name] = fieldSchema(fd)
		}
	}
	return propertiesSchema(id, l, props)
}

// fieldSchema is the JSON Schema of a field's values; every field may be
// null in some feature.
func fieldSchema(fd geo.Field) obj {
	s := obj{"title": fd.Name}
	switch fd.Type {
	case geo.Integer:
		s["type"] = "integer"
	case geo.Number:
		s["type"] = "number"
	case geo.Boolean:
		s["type"] = "boolean"
	case geo.Date:
		s["type"], s["format"] = "string", "date"
	case geo.DateTime:
		s["type"], s["format"] = "string", "date-time"
	default:
		s["type"] = "string"
	}
	return s
}

// geometryFormat is the Part 3 format of a layer's geometry type, which
// the stores record with multi-geometries folded into their single kind.
func geometryFormat(t string) string {
	switch t {
	case "Point":
		return "geometry-point-or-multipoint"
	case "LineString":
		return "geometry-linestring-or-multilinestring"
	case "Polygon":
		return "geometry-polygon-or-multipolygon"
	}
	return "geometry-any"
}

// sortables describes the properties of l that sortby takes, as a JSON
// Schema 2020-12 document whose $id is its URL (Part 8): every field, as
// any of them orders; the geometry does not.
func sortables(id string, l *catalog.Layer) obj {
	props := obj{}
	for _, fd := range l.Info.Fields {
		props[fd.Name] = fieldSchema(fd)
	}
	return propertiesSchema(id, l, props)
}

// propertiesSchema is a JSON Schema 2020-12 document of an object with
// props and no other properties, as Parts 3 and 8 describe properties.
func propertiesSchema(id string, l *catalog.Layer, props obj) obj {
	title := l.Info.Title
	if title == "" {
		title = l.Info.ID
	}
	return obj{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  id,
		"type":                 "object",
		"title":                title,
		"properties":           props,
		"additionalProperties": false,
	}
}
