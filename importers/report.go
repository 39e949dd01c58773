package importers

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// MaxProblems is how many rejected features a Report lists; the rest are
// only counted.
const MaxProblems = 20

// Problem is one rejected feature.
type Problem struct {
	Feature int64  `json:"feature"`      // its position in the file, from 1 (a CSV's data row, a shapefile's record)
	ID      uint64 `json:"id,omitempty"` // its id, when it was read
	Reason  string `json:"reason"`
}

func (p Problem) String() string {
	if p.ID != 0 && p.ID != uint64(p.Feature) {
		return fmt.Sprintf("feature %d (id %d): %s", p.Feature, p.ID, p.Reason)
	}
	return fmt.Sprintf("feature %d: %s", p.Feature, p.Reason)
}

// Report is what an import did with one layer of a file. The command line
// prints it with WriteText; the upload API returns it as JSON.
type Report struct {
	Layer        string `json:"layer"`
	Version      int64  `json:"version,omitempty"` // the version written; 0 if none was
	File         string `json:"file"`
	Format       string `json:"format"`
	SourceLayer  string `json:"source_layer,omitempty"`
	SourceCRS    string `json:"source_crs"`
	GeometryType string `json:"geometry_type,omitempty"`
	Read         int64  `json:"read"`     // features read, rejected ones included
	Imported     int64  `json:"imported"` // features in the version written
	Repaired     int64  `json:"repaired"` // features imported after a repair
	Rejected     int64  `json:"rejected"`
	// Repairs counts the repaired features by kind of repair (one feature
	// may have several).
	Repairs map[string]int64 `json:"repairs,omitempty"`
	Rejects []Problem        `json:"rejects,omitempty"` // the first MaxProblems
	// BBox is the extent of the imported features: west, south, east, north.
	BBox              *[4]float64 `json:"bbox,omitempty"`
	Strict            bool        `json:"strict,omitempty"`
	Seconds           float64     `json:"seconds"`
	FeaturesPerSecond float64     `json:"features_per_second"`
	Error             string      `json:"error,omitempty"` // why nothing was imported
}

func (r *Report) reject(p Problem) {
	r.Rejected++
	if len(r.Rejects) < MaxProblems {
		r.Rejects = append(r.Rejects, p)
	}
}

// WriteText writes the report for a person. Its first line keeps the form
// "imported ID: N features, version V, ..." that scripts may look for.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	src := r.File
	if r.SourceLayer != "" {
		src += " (layer " + r.SourceLayer + ")"
	}
	if r.Error == "" {
		fmt.Fprintf(&b, "imported %s: %d features, version %d", r.Layer, r.Imported, r.Version)
		if r.BBox != nil {
			fmt.Fprintf(&b, ", bounds [%.6f %.6f %.6f %.6f]", r.BBox[0], r.BBox[1], r.BBox[2], r.BBox[3])
		}
		if r.GeometryType != "" {
			fmt.Fprintf(&b, ", %s", r.GeometryType)
		}
		fmt.Fprintf(&b, ", in %.1fs\n", r.Seconds)
	} else {
		fmt.Fprintf(&b, "import of %s into %s failed, nothing changed: %s\n", src, r.Layer, r.Error)
	}
	fmt.Fprintf(&b, "  source:   %s, %s, CRS %s\n", src, r.Format, r.SourceCRS)
	fmt.Fprintf(&b, "  features: %d read, %d imported, %d repaired, %d rejected", r.Read, r.Imported, r.Repaired, r.Rejected)
	if r.Strict {
		b.WriteString(" (--strict)")
	}
	fmt.Fprintf(&b, "; %.0f features/s\n", r.FeaturesPerSecond)
	for _, k := range slices.Sorted(maps.Keys(r.Repairs)) {
		fmt.Fprintf(&b, "  repaired: %d × %s\n", r.Repairs[k], k)
	}
	if len(r.Rejects) > 0 {
		more := ""
		if r.Rejected > int64(len(r.Rejects)) {
			more = fmt.Sprintf(" (the first %d of %d)", len(r.Rejects), r.Rejected)
		}
		fmt.Fprintf(&b, "  rejected%s:\n", more)
		for _, p := range r.Rejects {
			fmt.Fprintf(&b, "    %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
