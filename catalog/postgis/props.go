package postgis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/jsonw"
)

// encodeProps writes properties as a JSON object, with dates as "2006-01-02"
// and date-times as RFC 3339 with nanoseconds. The feature model's own
// types are written here, byte for byte as encoding/json writes them (keys
// sorted), because json.Marshal's reflection over a map was a third of
// the client's time in an import; any other value goes to json.Marshal.
func encodeProps(props map[string]any) ([]byte, error) {
	if len(props) == 0 {
		return []byte("{}"), nil
	}
	type member struct {
		k string
		v any
	}
	var buf [16]member
	members := buf[:0]
	size := 2
	for k, v := range props {
		members = append(members, member{k, v})
		size += len(k) + 4
		if s, ok := v.(string); ok {
			size += len(s) + 2
		} else {
			size += 24
		}
	}
	slices.SortFunc(members, func(a, b member) int { return strings.Compare(a.k, b.k) })
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, m.k, true)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, m.v); err != nil {
			return nil, fmt.Errorf("encode properties: %q: %w", m.k, err)
		}
	}
	return append(b, '}'), nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return jsonw.AppendString(b, v, true), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		b, ok := jsonw.AppendFloat(b, v)
		if !ok {
			return nil, fmt.Errorf("unsupported value %v", v)
		}
		return b, nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case time.Time:
		return jsonw.AppendString(b, formatTime(v), true), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

func formatTime(t time.Time) string {
	if typ, _ := geo.TypeOf(t); typ == geo.Date {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// decodeProps reads a JSON object back into the feature model, converting
// each value to the type of its field.
func decodeProps(b []byte, types map[string]geo.FieldType) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var props map[string]any
	if err := d.Decode(&props); err != nil {
		return nil, fmt.Errorf("decode properties: %w", err)
	}
	for k, v := range props {
		if v == nil {
			continue
		}
		c, err := convert(v, types[k])
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		props[k] = c
	}
	return props, nil
}

func convert(v any, t geo.FieldType) (any, error) {
	switch v := v.(type) {
	case json.Number:
		switch t {
		case geo.String:
			return v.String(), nil
		case geo.Number:
			return v.Float64()
		}
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		return v.Float64()
	case string:
		switch t {
		case geo.Date, geo.DateTime:
			if d, err := time.Parse(time.DateOnly, v); err == nil {
				return d, nil
			}
			return time.Parse(time.RFC3339Nano, v)
		}
		return v, nil
	case bool:
		if t == geo.String {
			return strconv.FormatBool(v), nil
		}
		return v, nil
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v)
}
