// Package catalog holds the layers: their metadata, a durable Store behind
// one interface, and the in-memory Catalog that every read is served from.
package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/csdi-hk/csdi/geo"
)

// Catalog serves every layer from memory. Each layer is an immutable
// snapshot; a change builds a new snapshot off to the side and swaps it in,
// so a request sees one version of a layer from start to end.
type Catalog struct {
	store  Store
	log    *slog.Logger
	layers atomic.Pointer[map[string]*Layer]
	// writeMu orders writers so that a slow import cannot swap in after a
	// later one; readers never take it.
	writeMu sync.Mutex
	ready   atomic.Bool
	// onChange, if set, is told of every layer that changed or went away.
	onChange func(id string)
}

// New returns an empty catalog over store; call Load to fill it.
func New(store Store, log *slog.Logger) *Catalog {
	if log == nil {
		log = slog.Default()
	}
	c := &Catalog{store: store, log: log}
	empty := map[string]*Layer{}
	c.layers.Store(&empty)
	return c
}

// OnChange registers fn to be called after a layer is swapped in or removed
// (caches use it to drop what they hold for that layer).
func (c *Catalog) OnChange(fn func(id string)) { c.onChange = fn }

// Store returns the store behind the catalog.
func (c *Catalog) Store() Store { return c.store }

// Load reads every layer from the store into memory.
func (c *Catalog) Load(ctx context.Context) error {
	infos, err := c.store.Layers(ctx)
	if err != nil {
		return fmt.Errorf("list layers: %w", err)
	}
	next := make(map[string]*Layer, len(infos))
	for _, info := range infos {
		start := time.Now()
		l, err := c.read(ctx, info.ID)
		if err != nil {
			return err
		}
		next[l.Info.ID] = l
		c.log.InfoContext(ctx, "layer loaded", "layer", l.Info.ID, "version", l.Info.Version,
			"features", len(l.features), "took", time.Since(start).Round(time.Millisecond))
	}
	c.writeMu.Lock()
	c.layers.Store(&next)
	c.writeMu.Unlock()
	c.ready.Store(true)
	return nil
}

// Ready reports whether Load has completed.
func (c *Catalog) Ready() bool { return c.ready.Load() }

func (c *Catalog) read(ctx context.Context, id string) (*Layer, error) {
	var feats []geo.Feature
	info, err := c.store.ReadLayer(ctx, id, func(f geo.Feature) error {
		feats = append(feats, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read layer %q: %w", id, err)
	}
	return NewLayer(info, feats), nil
}

// Layers returns every layer, ordered by id.
func (c *Catalog) Layers() []*Layer {
	m := *c.layers.Load()
	return slices.SortedFunc(maps.Values(m), func(a, b *Layer) int { return cmp.Compare(a.Info.ID, b.Info.ID) })
}

// Layer returns the current snapshot of one layer.
func (c *Catalog) Layer(id string) (*Layer, bool) {
	l, ok := (*c.layers.Load())[id]
	return l, ok
}

// Replace writes a new version of a layer through the store and, once it is
// committed, swaps the new snapshot into memory.
func (c *Catalog) Replace(ctx context.Context, info LayerInfo, features iter.Seq2[geo.Feature, error]) (LayerInfo, error) {
	if err := ValidateID(info.ID); err != nil {
		return LayerInfo{}, err
	}
	stored, err := c.store.ReplaceLayer(ctx, info, features)
	if err != nil {
		return LayerInfo{}, fmt.Errorf("replace layer %q: %w", info.ID, err)
	}
	if err := c.Refresh(ctx, info.ID); err != nil {
		return stored, err
	}
	return stored, nil
}

// Refresh reloads one layer from the store and swaps it in, or drops it from
// memory if the store no longer has it. Another replica's change arrives here.
func (c *Catalog) Refresh(ctx context.Context, id string) error {
	l, err := c.read(ctx, id)
	missing := errors.Is(err, ErrNotFound)
	if err != nil && !missing {
		return err
	}
	c.writeMu.Lock()
	next := maps.Clone(*c.layers.Load())
	if missing {
		delete(next, id)
	} else if old, ok := next[id]; !ok || old.Info.Version <= l.Info.Version {
		next[id] = l
	}
	c.layers.Store(&next)
	c.writeMu.Unlock()
	if c.onChange != nil {
		c.onChange(id)
	}
	return nil
}

// Delete removes a layer from the store and from memory.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	if err := c.store.DeleteLayer(ctx, id); err != nil {
		return fmt.Errorf("delete layer %q: %w", id, err)
	}
	return c.Refresh(ctx, id)
}

// Rollback restores a kept version of a layer as its new current version
// and swaps it into memory.
func (c *Catalog) Rollback(ctx context.Context, id string, version int64) (LayerInfo, error) {
	info, err := c.store.Rollback(ctx, id, version)
	if err != nil {
		return LayerInfo{}, fmt.Errorf("roll back layer %q to version %d: %w", id, version, err)
	}
	return info, c.Refresh(ctx, id)
}

// UpdateInfo changes a layer's metadata and serving options, not its data,
// and swaps the new version into memory.
func (c *Catalog) UpdateInfo(ctx context.Context, info LayerInfo) (LayerInfo, error) {
	stored, err := c.store.UpdateInfo(ctx, info)
	if err != nil {
		return LayerInfo{}, fmt.Errorf("update layer %q: %w", info.ID, err)
	}
	return stored, c.Refresh(ctx, info.ID)
}
