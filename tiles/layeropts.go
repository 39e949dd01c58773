package tiles

import "github.com/csdi-hk/csdi/catalog"

// zoomRange is the zooms at which a layer has tiles, given the deepest zoom
// the engine serves: a MaxZoom of 0 is that deepest zoom.
func zoomRange(o catalog.TileOptions, engineMax int) (lo, hi int) {
	hi = engineMax
	if o.MaxZoom > 0 {
		hi = min(o.MaxZoom, engineMax)
	}
	return o.MinZoom, hi
}

func inZoomRange(o catalog.TileOptions, z, engineMax int) bool {
	lo, hi := zoomRange(o, engineMax)
	return z >= lo && z <= hi
}

// listZoomRange is the union of the ranges of layers: the range of their
// composite tiles. ok is false when the ranges leave nothing.
func listZoomRange(layers []*catalog.Layer, engineMax int) (lo, hi int, ok bool) {
	lo, hi = engineMax, 0
	for _, l := range layers {
		a, b := zoomRange(l.Info.Tiles, engineMax)
		if a > b {
			continue
		}
		lo, hi, ok = min(lo, a), max(hi, b), true
	}
	return lo, hi, ok
}

// keepSet is the set of properties a layer puts in its tiles, nil for all;
// an empty list keeps none.
func keepSet(props []string) map[string]bool {
	if props == nil {
		return nil
	}
	keep := make(map[string]bool, len(props))
	for _, p := range props {
		keep[p] = true
	}
	return keep
}
