package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
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
	fs.StringVar(&meta.Department, "department", "", "owning department: its upload tokens may replace the layer")
	fs.StringVar(&meta.Attribution, "attribution", "", "attribution shown with the data")
	var opts importers.ImportOptions
	fs.StringVar(&opts.CRS, "crs", "", "CRS of the file when it does not say, or to override it (EPSG:2326, EPSG:4326, ...)")
	fs.StringVar(&opts.SourceLayer, "source-layer", "", "the layer of the file to import (a GeoPackage table, a shapefile in a zip, a KML folder)")
	fs.StringVar(&opts.Encoding, "encoding", "", "text encoding of .dbf and CSV files when the file does not say (utf-8, big5, big5-hkscs)")
	fs.StringVar(&opts.X, "x", "", "CSV: the column of longitudes or eastings")
	fs.StringVar(&opts.Y, "y", "", "CSV: the column of latitudes or northings")
	fs.StringVar(&opts.Geometry, "geometry", "", "CSV: the column of WKT geometries")
	fs.BoolVar(&opts.Strict, "strict", false, "fail the whole import, changing nothing, if any feature is rejected")
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
	// A file of several layers goes into one layer each, named
	// ID_<layer name>; --source-layer picks one instead.
	opts.AllLayers = true
	opts.Progress = progressPrinter(os.Stderr, time.Now)
	meta.CreatedBy = whoAmI()
	store, where, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	reports, err := importers.Import(ctx, storeWriter(store), meta, files[0], opts)
	for _, r := range reports {
		if r.Error == "" {
			log.InfoContext(ctx, "imported", "layer", r.Layer, "version", r.Version, "store", where)
		}
		if werr := r.WriteText(stdout); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// storeWriter writes through store.ReplaceLayer, keeping what a person
// edited of the version before when the import leaves it empty.
func storeWriter(store catalog.Store) importers.Writer {
	return func(ctx context.Context, info catalog.LayerInfo, features iter.Seq2[geo.Feature, error]) (catalog.LayerInfo, error) {
		layers, err := store.Layers(ctx)
		if err != nil {
			return catalog.LayerInfo{}, err
		}
		var old catalog.LayerInfo
		for _, l := range layers {
			if l.ID == info.ID {
				old = l
			}
		}
		return store.ReplaceLayer(ctx, importers.MergeInfo(old, info), features)
	}
}

// importFile imports a GeoJSON file for --seed.
func importFile(ctx context.Context, store catalog.Store, meta catalog.LayerInfo, path string) (catalog.LayerInfo, error) {
	reports, err := importers.Import(ctx, storeWriter(store), meta, path, importers.ImportOptions{})
	if err != nil {
		return catalog.LayerInfo{}, err
	}
	r := reports[0]
	return catalog.LayerInfo{ID: r.Layer, Version: r.Version, FeatureCount: r.Imported}, nil
}

// whoAmI names the person running the command, for a layer's history.
func whoAmI() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// progressPrinter shows an import's progress on w: a bar redrawn in place
// on a terminal, a plain line every 10 seconds otherwise (a log file, CI).
func progressPrinter(w *os.File, now func() time.Time) func(importers.Progress) {
	st, err := w.Stat()
	tty := err == nil && st.Mode()&os.ModeCharDevice != 0
	var lastLine time.Time
	return func(p importers.Progress) {
		rate := 0.0
		if s := p.Elapsed.Seconds(); s > 0 {
			rate = float64(p.Read) / s
		}
		if !tty {
			if p.Stage == "reading" && now().Sub(lastLine) >= 10*time.Second {
				lastLine = now()
				fmt.Fprintf(w, "import %s: %s\n", p.Layer, progressText(p, rate))
			}
			return
		}
		if p.Stage == "done" {
			fmt.Fprint(w, "\r\033[K")
			return
		}
		fmt.Fprintf(w, "\r%s %s\033[K", p.Layer, progressBar(p, 24)+progressText(p, rate))
	}
}

func progressText(p importers.Progress, rate float64) string {
	var b strings.Builder
	if p.Bytes > 0 && p.Size > 0 {
		fmt.Fprintf(&b, "%3.0f%% %s of %s, ", 100*float64(p.Bytes)/float64(p.Size), megabytes(p.Bytes), megabytes(p.Size))
	}
	fmt.Fprintf(&b, "%d features, %.0f/s", p.Read, rate)
	if p.Rejected > 0 {
		fmt.Fprintf(&b, ", %d rejected", p.Rejected)
	}
	if p.Stage == "writing" {
		b.WriteString(", indexing and committing")
	}
	return b.String()
}

// progressBar is a bar of width cells, empty when the size is unknown.
func progressBar(p importers.Progress, width int) string {
	if p.Bytes <= 0 || p.Size <= 0 {
		return ""
	}
	full := int(float64(width) * min(float64(p.Bytes)/float64(p.Size), 1))
	return "[" + strings.Repeat("#", full) + strings.Repeat(".", width-full) + "] "
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
