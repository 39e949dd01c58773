package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/gpkg"
	"github.com/csdi-hk/csdi/catalog/postgis"
)

// storeFlags are the flags every command that touches the store takes.
type storeFlags struct {
	db   string
	data string
	// keep is a string so that a bad $CSDI_KEEP_VERSIONS is reported as
	// such rather than silently replaced by the default.
	keep string
}

// keepEnv names the variable that sets --keep-versions for every command:
// each change prunes the history to its own process's count, so the
// server and the command line should agree.
const keepEnv = "CSDI_KEEP_VERSIONS"

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.db, "db", os.Getenv("CSDI_DATABASE_URL"), "PostgreSQL/PostGIS URL (default $CSDI_DATABASE_URL)")
	fs.StringVar(&s.data, "data", "./data", "folder of the embedded store, used when no --db is given")
	keep := os.Getenv(keepEnv)
	if keep == "" {
		keep = strconv.Itoa(catalog.DefaultKeep)
	}
	fs.StringVar(&s.keep, "keep-versions", keep, fmt.Sprintf("versions of each layer kept, the current one included: 2 or more (default $%s, else %d)", keepEnv, catalog.DefaultKeep))
}

// keepVersions checks --keep-versions. The version before is always kept,
// so that a bad import can be rolled back: fewer than 2 is refused.
func (s *storeFlags) keepVersions() (int, error) {
	n, err := strconv.Atoi(s.keep)
	if err != nil || n < 2 {
		return 0, fmt.Errorf("--keep-versions (or $%s) %q: want a whole number, 2 or more (the current version and at least the one before)", keepEnv, s.keep)
	}
	return n, nil
}

// open returns the PostGIS store when a URL is given, else the embedded one.
func (s *storeFlags) open(ctx context.Context) (catalog.Store, string, error) {
	keep, err := s.keepVersions()
	if err != nil {
		return nil, "", err
	}
	if s.db != "" {
		st, err := postgis.OpenWith(ctx, s.db, postgis.Options{Keep: keep})
		if err != nil {
			return nil, "", fmt.Errorf("open PostGIS store: %w", err)
		}
		return st, "postgis", nil
	}
	path := filepath.Join(s.data, "csdi.gpkg")
	st, err := gpkg.OpenWith(ctx, path, gpkg.Options{Keep: keep})
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
