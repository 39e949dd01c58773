package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/importers"
)

func importCmd(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	var meta catalog.LayerInfo
	fs.StringVar(&meta.ID, "layer", "", "layer id (required): ^[a-z][a-z0-9_]{0,62}$")
	fs.StringVar(&meta.Title, "title", "", "title in English (default: kept, or the layer id)")
	fs.StringVar(&meta.TitleZH, "title-zh", "", "title in Traditional Chinese")
	fs.StringVar(&meta.Description, "description", "", "description in English")
	fs.StringVar(&meta.DescriptionZH, "description-zh", "", "description in Traditional Chinese")
	fs.StringVar(&meta.Department, "department", "", "owning department")
	fs.StringVar(&meta.Attribution, "attribution", "", "attribution shown with the data")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if meta.ID == "" {
		return errors.New("import: --layer ID is required")
	}
	if err := catalog.ValidateID(meta.ID); err != nil {
		return fmt.Errorf("import: --layer: %w", err)
	}
	if len(files) != 1 {
		return fmt.Errorf("import: want exactly one FILE, got %d", len(files))
	}
	store, where, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	info, err := importFile(ctx, store, meta, files[0])
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "imported", "layer", info.ID, "store", where)
	fmt.Fprintf(stdout, "imported %s: %d features, version %d, bounds [%.6f %.6f %.6f %.6f], %s, in %s\n",
		info.ID, info.FeatureCount, info.Version, info.Bounds.Min[0], info.Bounds.Min[1], info.Bounds.Max[0], info.Bounds.Max[1],
		info.GeometryType, time.Since(start).Round(time.Millisecond))
	return nil
}

// importFile loads one file into a layer, keeping the metadata the layer
// already has where meta leaves a field empty.
func importFile(ctx context.Context, store catalog.Store, meta catalog.LayerInfo, path string) (catalog.LayerInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	layers, err := store.Layers(ctx)
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("import: %w", err)
	}
	for _, old := range layers {
		if old.ID == meta.ID {
			meta = mergeInfo(old, meta)
		}
	}
	if meta.Title == "" {
		meta.Title = meta.ID
	}
	if meta.SourceCRS == "" {
		meta.SourceCRS = "OGC:CRS84"
	}
	info, err := store.ReplaceLayer(ctx, meta, importers.GeoJSON(f, filepath.Base(path)))
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("import %s into layer %q: %w", path, meta.ID, err)
	}
	return info, nil
}

// mergeInfo fills the empty text fields of next from old.
func mergeInfo(old, next catalog.LayerInfo) catalog.LayerInfo {
	for _, p := range []struct{ dst, src *string }{
		{&next.Title, &old.Title}, {&next.TitleZH, &old.TitleZH},
		{&next.Description, &old.Description}, {&next.DescriptionZH, &old.DescriptionZH},
		{&next.Department, &old.Department}, {&next.Attribution, &old.Attribution},
	} {
		if *p.dst == "" {
			*p.dst = *p.src
		}
	}
	return next
}
