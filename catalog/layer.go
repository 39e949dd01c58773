package catalog

import (
	"errors"
	"fmt"
	"regexp"
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
	ID            string      `json:"id"`
	Title         string      `json:"title"`
	TitleZH       string      `json:"title_zh,omitempty"`
	Description   string      `json:"description,omitempty"`
	DescriptionZH string      `json:"description_zh,omitempty"`
	Department    string      `json:"department,omitempty"`
	Attribution   string      `json:"attribution,omitempty"`
	SourceCRS     string      `json:"source_crs,omitempty"`
	Fields        []geo.Field `json:"fields"`

	// Set by the store on every replace; ignored on input.
	Version      int64     `json:"version"`
	FeatureCount int64     `json:"feature_count"`
	Bounds       orb.Bound `json:"bounds"`
	GeometryType string    `json:"geometry_type"`
	UpdatedAt    time.Time `json:"updated_at"`
}
