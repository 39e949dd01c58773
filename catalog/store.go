package catalog

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

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
	// cancelled context, a lost connection, tile options that do not fit
	// the data) leaves the old version and the history intact. The store
	// computes Version, FeatureCount, Bounds, GeometryType, Fields and
	// UpdatedAt from the features (see Summary). The version it replaces
	// is kept for Rollback, within the store's limit of kept versions.
	ReplaceLayer(ctx context.Context, info LayerInfo, features iter.Seq2[geo.Feature, error]) (LayerInfo, error)

	// UpdateInfo changes what a person edits without new data: Title,
	// TitleZH, Description, DescriptionZH, Department, Attribution, Tiles,
	// and CreatedBy (who made the change). The rest, SourceCRS and
	// SourceFile included, stays as it describes the data. It makes a new
	// version (tile caches key on the version) that serves the same data;
	// ErrNotFound if there is no such layer.
	UpdateInfo(ctx context.Context, info LayerInfo) (LayerInfo, error)

	// History lists the kept versions of a layer, newest (the current one)
	// first; ErrNotFound if there is no such layer. Versions beyond the
	// store's limit are forgotten, data and metadata.
	History(ctx context.Context, id string) ([]Version, error)

	// Rollback makes a kept version's data and metadata current again, as
	// a new version with a new number, in one transaction. The version
	// replaced is kept like any other. ErrNotFound if the layer or the
	// version is not kept.
	Rollback(ctx context.Context, id string, version int64) (LayerInfo, error)

	// DeleteLayer removes a layer, its data and its history; ErrNotFound
	// if there is none.
	DeleteLayer(ctx context.Context, id string) error

	// CreateToken records the hash (SHA-256, 32 bytes) of a department's
	// upload token; the token itself is never stored. A hash already
	// recorded is an error.
	CreateToken(ctx context.Context, department string, hash []byte) error

	// TokenDepartment returns the department of a token's hash;
	// ErrNotFound if it is not recorded.
	TokenDepartment(ctx context.Context, hash []byte) (string, error)

	// RevokeToken forgets a token's hash; ErrNotFound if it is not recorded.
	RevokeToken(ctx context.Context, hash []byte) error

	// Ping checks that the store can be reached.
	Ping(ctx context.Context) error

	Close() error
}

// DefaultKeep is how many versions of a layer a store keeps unless told
// otherwise: the current one and the one before it.
const DefaultKeep = 2

// Version is one kept version of a layer, as History lists it.
type Version struct {
	Version      int64     `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by,omitempty"`
	SourceFile   string    `json:"source_file,omitempty"`
	FeatureCount int64     `json:"feature_count"`
	Current      bool      `json:"current"`
	// DataVersion is the version whose import wrote the data this version
	// serves: Version itself after ReplaceLayer, an older one after
	// UpdateInfo or Rollback.
	DataVersion int64 `json:"data_version"`
}

// TokenHashSize is the length of the hashes CreateToken takes (SHA-256).
const TokenHashSize = 32

// Edit returns cur with what UpdateInfo changes taken from edit.
func Edit(cur, edit LayerInfo) LayerInfo {
	cur.Title, cur.TitleZH = edit.Title, edit.TitleZH
	cur.Description, cur.DescriptionZH = edit.Description, edit.DescriptionZH
	cur.Department, cur.Attribution = edit.Department, edit.Attribution
	cur.Tiles, cur.CreatedBy = edit.Tiles, edit.CreatedBy
	return cur
}

// VersionOf describes a version of a layer from its metadata; data is the
// version whose data it serves. Stores use it for History.
func VersionOf(info LayerInfo, data int64, current bool) Version {
	return Version{
		Version: info.Version, CreatedAt: info.UpdatedAt, CreatedBy: info.CreatedBy, SourceFile: info.SourceFile,
		FeatureCount: info.FeatureCount, Current: current, DataVersion: data,
	}
}

// NotKept is the error of a Rollback to a version the store does not keep
// (any more): it wraps ErrNotFound and names the versions kept.
func NotKept(version int64, kept []int64, keep int) error {
	return fmt.Errorf("version %d is not kept: the versions kept are %v (the store keeps %d, the current one included): %w",
		version, kept, keep, ErrNotFound)
}

// CheckToken refuses what cannot be a token's hash or a department.
func CheckToken(department string, hash []byte) error {
	if len(hash) != TokenHashSize {
		return fmt.Errorf("token hash of %d bytes: want the %d bytes of a SHA-256 hash, never the token itself", len(hash), TokenHashSize)
	}
	if strings.TrimSpace(department) == "" {
		return errors.New("token without a department")
	}
	return nil
}
