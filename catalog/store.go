package catalog

import (
	"context"
	"iter"

	"github.com/csdi-hk/csdi/geo"
)

// Store keeps layers durably. The in-memory Catalog reads everything through
// it at start and writes through it; PostGIS (catalog/postgis) and the
// embedded GeoPackage (catalog/gpkg) implement it and pass the same contract
// tests (catalog/storetest).
type Store interface {
	// Layers lists the metadata of every layer, ordered by id.
	Layers(ctx context.Context) ([]LayerInfo, error)

	// ReadLayer streams one consistent version of a layer: the metadata it
	// returns is that of the features passed to each, in ascending id order.
	// An error from each stops the read and is returned.
	ReadLayer(ctx context.Context, id string, each func(geo.Feature) error) (LayerInfo, error)

	// ReplaceLayer creates the layer or replaces all of its data and metadata
	// in one transaction: readers see the old version or the new one, and a
	// failure (an error from features, a duplicate or non-positive id, a
	// cancelled context, a lost connection) leaves the old version intact.
	// The store computes Version, FeatureCount, Bounds, GeometryType, Fields
	// and UpdatedAt from the features (see Summary).
	ReplaceLayer(ctx context.Context, info LayerInfo, features iter.Seq2[geo.Feature, error]) (LayerInfo, error)

	// DeleteLayer removes a layer and its data; ErrNotFound if there is none.
	DeleteLayer(ctx context.Context, id string) error

	// Ping checks that the store can be reached.
	Ping(ctx context.Context) error

	Close() error
}
