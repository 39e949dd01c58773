package catalog

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

// ErrNotFound is returned (wrapped) for a layer or feature that does not exist.
var ErrNotFound = errors.New("not found")

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidateID refuses a layer id that is not a lower-case identifier. Ids
// become table names, URL segments and MVT layer names, so the rule is strict.
func ValidateID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("invalid layer id %q: it must match ^[a-z][a-z0-9_]{0,62}$ (a lower-case letter, then up to 62 lower-case letters, digits or underscores)", id)
	}
	return nil
}

// LayerInfo is a layer's metadata: what the catalog lists and the OGC API and
// TileJSON describe. Title and description come in English and Traditional
// Chinese, as the departments publish them.
type LayerInfo struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	TitleZH       string `json:"title_zh,omitempty"`
	Description   string `json:"description,omitempty"`
	DescriptionZH string `json:"description_zh,omitempty"`
	Department    string `json:"department,omitempty"`
	Attribution   string `json:"attribution,omitempty"`
	SourceCRS     string `json:"source_crs,omitempty"`
	// CreatedBy (who made this version: a person, a department's token, a
	// job) and SourceFile (the file it was imported from) are recorded
	// with each version for History.
	CreatedBy  string      `json:"created_by,omitempty"`
	SourceFile string      `json:"source_file,omitempty"`
	Tiles      TileOptions `json:"tiles"`
	Fields     []geo.Field `json:"fields"`

	// Set by the store on every replace; ignored on input.
	Version      int64     `json:"version"`
	FeatureCount int64     `json:"feature_count"`
	Bounds       orb.Bound `json:"bounds"`
	GeometryType string    `json:"geometry_type"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// MaxZoom is the deepest zoom level a layer's tiles may be asked to reach.
const MaxZoom = 24

// TileOptions say how a layer is served as vector tiles (and which field the
// OGC API datetime parameter filters on). The zero value is the engine's
// defaults for everything.
type TileOptions struct {
	// MinZoom and MaxZoom bound the zooms at which the layer has tiles;
	// 0 for MaxZoom is the engine's default.
	MinZoom int `json:"minzoom,omitempty"`
	MaxZoom int `json:"maxzoom,omitempty"`
	// Properties are the fields that go into tiles: nil for all of them,
	// empty (not nil) for none.
	Properties []string `json:"properties"`
	// Simplify multiplies the engine's simplification tolerance; 0 is 1.
	Simplify float64 `json:"simplify,omitempty"`
	// KeepSmall keeps features smaller than a pixel at low zooms, which
	// the engine otherwise drops.
	KeepSmall bool `json:"keep_small,omitempty"`
	// TimeField names the date or date-time field that OGC API datetime
	// queries filter on; "" for none.
	TimeField string `json:"time_field,omitempty"`
}

// Validate checks what does not depend on the layer's fields: the zooms and
// the simplification factor. Stores call it before reading any data, so a bad
// option fails an import at once.
func (o TileOptions) Validate() error {
	if o.MinZoom < 0 || o.MinZoom > MaxZoom || o.MaxZoom < 0 || o.MaxZoom > MaxZoom {
		return fmt.Errorf("tile options: minzoom %d and maxzoom %d must be between 0 and %d", o.MinZoom, o.MaxZoom, MaxZoom)
	}
	if o.MaxZoom != 0 && o.MinZoom > o.MaxZoom {
		return fmt.Errorf("tile options: minzoom %d is above maxzoom %d", o.MinZoom, o.MaxZoom)
	}
	if math.IsNaN(o.Simplify) || math.IsInf(o.Simplify, 0) || o.Simplify < 0 {
		return fmt.Errorf("tile options: simplify %v must be a factor of 0 or more (0 is the default, 1)", o.Simplify)
	}
	return nil
}

// ValidateFields checks everything Validate does, and that Properties and
// TimeField name fields of the layer, TimeField a date or date-time one.
func (o TileOptions) ValidateFields(fields []geo.Field) error {
	if err := o.Validate(); err != nil {
		return err
	}
	types := make(map[string]geo.FieldType, len(fields))
	for _, f := range fields {
		types[f.Name] = f.Type
	}
	seen := make(map[string]bool, len(o.Properties))
	for _, p := range o.Properties {
		if _, ok := types[p]; !ok {
			return fmt.Errorf("tile options: property %q is not a field of the layer (fields: %s)", p, fieldNames(fields))
		}
		if seen[p] {
			return fmt.Errorf("tile options: property %q is listed twice", p)
		}
		seen[p] = true
	}
	if o.TimeField != "" {
		switch t, ok := types[o.TimeField]; {
		case !ok:
			return fmt.Errorf("tile options: time field %q is not a field of the layer (fields: %s)", o.TimeField, fieldNames(fields))
		case t != geo.Date && t != geo.DateTime:
			return fmt.Errorf("tile options: time field %q is of type %s, want %s or %s", o.TimeField, t, geo.Date, geo.DateTime)
		}
	}
	return nil
}

func fieldNames(fields []geo.Field) string {
	if len(fields) == 0 {
		return "none"
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = strconv.Quote(f.Name)
	}
	return strings.Join(names, ", ")
}
