package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/gpkg"
	"github.com/csdi-hk/csdi/catalog/postgis"
)

// storeFlags are the flags every command that touches the store takes.
type storeFlags struct {
	db   string
	data string
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.db, "db", os.Getenv("CSDI_DATABASE_URL"), "PostgreSQL/PostGIS URL (default $CSDI_DATABASE_URL)")
	fs.StringVar(&s.data, "data", "./data", "folder of the embedded store, used when no --db is given")
}

// open returns the PostGIS store when a URL is given, else the embedded one.
func (s *storeFlags) open(ctx context.Context) (catalog.Store, string, error) {
	if s.db != "" {
		st, err := postgis.Open(ctx, s.db)
		if err != nil {
			return nil, "", fmt.Errorf("open PostGIS store: %w", err)
		}
		return st, "postgis", nil
	}
	path := filepath.Join(s.data, "csdi.gpkg")
	st, err := gpkg.Open(ctx, path)
	if err != nil {
		return nil, "", fmt.Errorf("open embedded store %s: %w", path, err)
	}
	return st, "gpkg " + path, nil
}

// parse parses flags wherever they stand among the arguments, so that
// "csdi import file.geojson --layer x" works as well as the usual order.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%s: %w", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
