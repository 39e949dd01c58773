package geo

import (
	"fmt"
	"slices"
	"time"
)

// FieldType is the type of an attribute, kept from the source through the
// stores to the OGC API and the tiles.
type FieldType string

const (
	String   FieldType = "string"
	Integer  FieldType = "integer"
	Number   FieldType = "number"
	Boolean  FieldType = "boolean"
	Date     FieldType = "date"
	DateTime FieldType = "datetime"
)

// Valid reports whether t is one of the known field types.
func (t FieldType) Valid() bool {
	switch t {
	case String, Integer, Number, Boolean, Date, DateTime:
		return true
	}
	return false
}

// Field is one attribute of a layer, named as in the source (Chinese included).
type Field struct {
	Name string    `json:"name"`
	Type FieldType `json:"type"`
}

// TypeOf returns the field type of a property value, and false for nil or a
// value outside the model.
func TypeOf(v any) (FieldType, bool) {
	switch v := v.(type) {
	case string:
		return String, true
	case int64:
		return Integer, true
	case float64:
		return Number, true
	case bool:
		return Boolean, true
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 && v.Location() == time.UTC {
			return Date, true
		}
		return DateTime, true
	}
	return "", false
}

// Schema accumulates the fields of a stream of features in the order they are
// first seen. A field whose values disagree widens: integer to number, and
// anything else that disagrees to string, so no value is ever lost.
type Schema struct {
	fields []Field
	index  map[string]int
}

// Observe records the properties of one feature.
func (s *Schema) Observe(props map[string]any) error {
	if s.index == nil {
		s.index = make(map[string]int)
	}
	var added []string
	for name, v := range props {
		var t FieldType
		if v != nil {
			var ok bool
			if t, ok = TypeOf(v); !ok {
				return fmt.Errorf("property %q: unsupported value type %T", name, v)
			}
		}
		i, ok := s.index[name]
		if !ok {
			s.index[name] = -1
			added = append(added, name)
			i = -1
		}
		if i >= 0 {
			s.fields[i].Type = Widen(s.fields[i].Type, t)
		}
	}
	// Properties arrive as maps, so new names are sorted to give every
	// import of the same data the same field order.
	slices.Sort(added)
	for _, name := range added {
		t, _ := TypeOf(props[name])
		s.index[name] = len(s.fields)
		s.fields = append(s.fields, Field{Name: name, Type: t})
	}
	return nil
}

// Fields returns the fields seen so far; a field that only ever held null is a string.
func (s *Schema) Fields() []Field {
	out := make([]Field, len(s.fields))
	copy(out, s.fields)
	for i := range out {
		if out[i].Type == "" {
			out[i].Type = String
		}
	}
	return out
}

// Widen returns the narrowest type that holds values of both a and b; an
// empty type (only nulls seen so far) gives way to the other.
func Widen(a, b FieldType) FieldType {
	switch {
	case a == "" || a == b:
		return b
	case b == "":
		return a
	case (a == Integer && b == Number) || (a == Number && b == Integer):
		return Number
	case (a == Date && b == DateTime) || (a == DateTime && b == Date):
		return DateTime
	}
	return String
}
