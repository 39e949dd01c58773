// Command csdi is the Common Spatial Data Infrastructure server: it imports
// departments' layers into a store and serves them as vector tiles, OGC API
// Features and a map viewer.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=..."; without
// it the module's build information is used.
var version = ""

const usage = `usage:
  csdi serve  [--addr 127.0.0.1:8080] [--db URL] [--data DIR] [--seed DIR] [--max-upload-mb 1024]
              [--keep-versions 2]
  csdi import [--db URL] [--data DIR] --layer ID [--title TEXT] [--title-zh TEXT]
              [--description TEXT] [--description-zh TEXT] [--attribution TEXT]
              [--department NAME] [--crs CRS] [--source-layer NAME] [--encoding ENC]
              [--x COL --y COL | --geometry COL] [--strict] [--keep-versions 2] FILE
  csdi layers [list | show ID | history ID | rollback ID VERSION | delete ID] [--db URL] [--data DIR]
              [--keep-versions 2]
  csdi token  [create --department NAME | revoke TOKEN] [--db URL] [--data DIR]
  csdi version

--db defaults to $CSDI_DATABASE_URL; with neither, the embedded GeoPackage
store in --data (default ./data) is used. Every command that changes a layer
keeps --keep-versions versions of it (default $CSDI_KEEP_VERSIONS, else 2:
the current one and the one before) and forgets older ones; give every
command the same count, most simply through $CSDI_KEEP_VERSIONS.

import reads GeoJSON, shapefiles (loose or zipped), GeoPackage, CSV, KML/KMZ,
GML and FlatGeobuf, whatever the file is called, in WGS84 or HK1980 Grid.
Geometries are checked and repaired where that is faithful; features that
cannot be repaired are left out and reported (with --strict, the import
fails and changes nothing). A file of several layers (GeoPackage tables,
shapefiles in one zip) is imported into one layer each, named ID_<name>
(<name> lower-cased, other characters than a-z 0-9 _ made _); --source-layer
imports only the one named, as ID.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Stdout, log); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "csdi:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serveCmd(ctx, args[1:], log)
	case "import":
		return importCmd(ctx, args[1:], stdout, log)
	case "layers":
		return layersCmd(ctx, args[1:], stdout, log)
	case "token":
		return tokenCmd(ctx, args[1:], stdout, log)
	case "version":
		fmt.Fprintln(stdout, "csdi", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			return "dev-" + rev[:min(12, len(rev))] + dirty
		}
	}
	return "dev"
}
