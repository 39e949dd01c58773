package postgis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/csdi-hk/csdi/geo"
)

// encodeProps writes properties as a JSON object, with dates as "2006-01-02"
// and date-times as RFC 3339 with nanoseconds.
func encodeProps(props map[string]any) ([]byte, error) {
	out, cloned := props, false
	for k, v := range props {
		if t, ok := v.(time.Time); ok {
			if !cloned {
				out, cloned = maps.Clone(props), true
			}
			out[k] = formatTime(t)
		}
	}
	if out == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode properties: %w", err)
	}
	return b, nil
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
