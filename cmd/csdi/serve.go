package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/postgis"
	"github.com/csdi-hk/csdi/features"
	"github.com/csdi-hk/csdi/importers/upload"
	"github.com/csdi-hk/csdi/tiles"
	webmap "github.com/csdi-hk/csdi/web-map"
)

func serveCmd(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	seed := fs.String("seed", "", "folder with layers.json: layers imported when the store is empty")
	tileCacheMB := fs.Int("tile-cache-mb", 256, "memory for built vector tiles, in MB; 0 turns the tile cache off")
	tileMaxAge := fs.Duration("tile-max-age", 5*time.Minute, "how long browsers and proxies may reuse a tile, TileJSON or style; 0 makes them revalidate every time")
	maxUploadMB := fs.Int64("max-upload-mb", upload.DefaultMaxBytes>>20, "largest file the upload API accepts, in MB")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("serve: unexpected argument %q", pos[0])
	}
	store, where, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if *seed != "" {
		if err := seedStore(ctx, store, *seed, log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	cat := catalog.New(store, log)
	tileOpts := tiles.Options{Log: log, CacheBytes: int64(*tileCacheMB) << 20, MaxAge: *tileMaxAge}
	if *tileCacheMB <= 0 {
		tileOpts.CacheBytes = -1
	}
	if *tileMaxAge <= 0 {
		tileOpts.MaxAge = -1
	}
	th := tiles.NewHandler(cat, tileOpts)
	// The catalog holds one callback; the tile cache is its only user.
	cat.OnChange(th.Invalidate)
	up := upload.New(cat, upload.Options{MaxBytes: *maxUploadMB << 20, Log: log})
	defer up.Close() // before the deferred store.Close: running imports end first
	srv := newServer(cat, th, up, log)
	log.Info("csdi listening", "addr", "http://"+ln.Addr().String(), "store", where, "version", buildVersion())

	// Layers load after the listener is up so that /healthz answers at once
	// and /readyz tells a load balancer when the data is in memory.
	loadErr := make(chan error, 1)
	go func() {
		start := time.Now()
		err := cat.Load(ctx)
		if err == nil {
			log.Info("layers loaded", "layers", len(cat.Layers()), "took", time.Since(start).Round(time.Millisecond))
		}
		loadErr <- err
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case err := <-loadErr:
		if err != nil {
			srv.Close()
			return fmt.Errorf("serve: load layers: %w", err)
		}
	}
	// Other replicas change the layers too. Following starts once the load
	// is done, as Refresh must not race Load; what changed in between is
	// caught by Listen's first call for every layer.
	if pg, ok := store.(*postgis.Store); ok {
		fctx, stop := context.WithCancel(ctx)
		followed := make(chan struct{})
		go func() {
			defer close(followed)
			followChanges(fctx, pg, cat, log)
		}()
		defer func() { stop(); <-followed }() // before the deferred store.Close
	}
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Finish the requests in flight, then stop.
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// followChanges reloads each layer that a notification names, whichever
// replica changed it, until ctx ends. A layer whose version in memory is
// the one committed is left alone: this replica's own changes come back as
// notifications too.
func followChanges(ctx context.Context, pg *postgis.Store, cat *catalog.Catalog, log *slog.Logger) {
	err := pg.Listen(ctx, func(id string) {
		v, err := pg.LayerVersion(ctx, id)
		l, ok := cat.Layer(id)
		switch {
		case err == nil && ok && l.Info.Version == v:
			return
		case errors.Is(err, catalog.ErrNotFound) && !ok:
			return
		}
		for attempt := 1; ; attempt++ {
			start := time.Now()
			err := cat.Refresh(ctx, id)
			if err == nil {
				if l, ok := cat.Layer(id); ok {
					log.InfoContext(ctx, "layer changed in the database: reloaded", "layer", id, "version", l.Info.Version, "took", time.Since(start).Round(time.Millisecond))
				} else {
					log.InfoContext(ctx, "layer deleted from the database: dropped", "layer", id)
				}
				return
			}
			if ctx.Err() != nil {
				return
			}
			log.ErrorContext(ctx, "reload changed layer", "layer", id, "attempt", attempt, "err", err)
			if attempt == 3 {
				return // the next notification of the layer tries again
			}
			select {
			case <-time.After(time.Duration(attempt) * time.Second):
			case <-ctx.Done():
				return
			}
		}
	})
	if ctx.Err() == nil {
		log.Error("following layer changes stopped", "err", err)
	}
}

// newServer wires every surface onto one router.
func newServer(cat *catalog.Catalog, th *tiles.Handler, up *upload.Handler, log *slog.Logger) *http.Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	m := newMetrics()
	e.Use(m.middleware, middleware.Recover(), requestLog(log))

	th.Register(e)
	features.NewHandler(cat, features.Options{Log: log, Tiles: true}).Register(e)
	up.Register(e)
	e.GET("/api/layers", func(c echo.Context) error { return c.JSON(http.StatusOK, layerList(cat)) })
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := cat.Store().Ping(ctx); err != nil {
			return c.String(http.StatusServiceUnavailable, "store unreachable: "+err.Error()+"\n")
		}
		if !cat.Ready() {
			return c.String(http.StatusServiceUnavailable, "layers loading\n")
		}
		return c.String(http.StatusOK, "ready\n")
	})
	e.GET("/metrics", func(c echo.Context) error {
		n := 0
		layers := cat.Layers()
		for _, l := range layers {
			n += l.Len()
		}
		c.Response().Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
		m.write(c.Response(), len(layers), n)
		return nil
	})
	e.GET("/*", echo.WrapHandler(webmap.Handler()))
	return &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
}

func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			log.LogAttrs(c.Request().Context(), slog.LevelDebug, "request",
				slog.String("method", c.Request().Method), slog.String("uri", c.Request().RequestURI),
				slog.Int("status", c.Response().Status), slog.Duration("took", time.Since(start)))
			return nil
		}
	}
}

// layerJSON is the viewer's view of a layer.
type layerJSON struct {
	catalog.LayerInfo
	Bounds [2][2]float64 `json:"bounds"`
}

func layerList(cat *catalog.Catalog) []layerJSON {
	out := []layerJSON{}
	for _, l := range cat.Layers() {
		b := l.Info.Bounds
		out = append(out, layerJSON{LayerInfo: l.Info, Bounds: [2][2]float64{b.Min, b.Max}})
	}
	return out
}

// seedManifest is testdata/sample/layers.json: the layers a new store starts with.
type seedManifest []struct {
	File string `json:"file"`
	catalog.LayerInfo
}

// seedStore imports the layers listed in dir/layers.json, once: a store that
// already has layers is left as it is.
func seedStore(ctx context.Context, store catalog.Store, dir string, log *slog.Logger) error {
	have, err := store.Layers(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if len(have) > 0 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "layers.json"))
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	var manifest seedManifest
	if err := json.Unmarshal(b, &manifest); err != nil {
		return fmt.Errorf("seed: %s: %w", filepath.Join(dir, "layers.json"), err)
	}
	for _, m := range manifest {
		info, err := importFile(ctx, store, m.LayerInfo, filepath.Join(dir, m.File))
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		log.Info("seeded layer", "layer", info.ID, "features", info.FeatureCount)
	}
	return nil
}
