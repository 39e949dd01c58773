package tiles

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/catalog"
)

// tileKey names a cached tile: the layer list as requested and the tile.
type tileKey struct {
	layers string
	tile   maptile.Tile
}

// cachedTile is a built tile, gzipped (nil for a tile with no feature), and
// the sum of what it was built from. A lookup whose layers have moved on to
// new versions finds a different sum and builds again, so a stale tile is
// never served even before Invalidate has run.
type cachedTile struct {
	sum string
	gz  []byte
}

// entryOverhead is about what an entry costs beyond its bytes and its key:
// the map slot, the list node, the sum.
const entryOverhead = 160

// builtTile is a tile just built, kept in the form its build's request
// asked for: gzipped, or plain for a client that does not take gzip (GIS
// tools, scripts), which then gets the bytes without a round trip through
// gzip. A request waiting on the same build that wants the other form makes
// it from this one.
type builtTile struct {
	plain []byte // set when the build's request wanted it plain
	once  sync.Once
	gz    []byte
	err   error
}

// gzipped returns the tile gzipped, compressing from once, the first time.
func (b *builtTile) gzipped(p *gzipPool, from []byte) ([]byte, error) {
	b.once.Do(func() {
		if len(from) > 0 {
			b.gz, b.err = p.compress(from)
		}
	})
	return b.gz, b.err
}

// tileBytes returns tile t of layers, gzipped if gz, from the cache or built
// once however many requests ask for it at the same time; nil for a tile
// with no feature.
func (h *Handler) tileBytes(ctx context.Context, list string, layers []*catalog.Layer, t maptile.Tile, sum string, gz bool) ([]byte, error) {
	key := tileKey{list, t}
	if h.cache != nil {
		if e, ok := h.cache.Get(key); ok && e.sum == sum {
			if gz || len(e.gz) == 0 {
				return e.gz, nil
			}
			return h.gzip.gunzip(e.gz)
		}
	}
	built, err := h.flight.do(ctx, sum, func(ctx context.Context) (*builtTile, error) {
		// At most GOMAXPROCS builds run at once, the others wait their
		// turn in order: a build is all CPU, and sixteen sharing two
		// cores finish no sooner in total, while each, the largest most,
		// takes sixteen times as long, and all their buffers are live at
		// once.
		select {
		case h.building <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-h.building }()
		bd, _ := h.builders.Get().(*builder)
		if bd == nil {
			bd = new(builder)
		}
		defer h.builders.Put(bd)
		body, err := bd.build(ctx, bd.out[:0], layers, t, h.opts.Extent, h.opts.Buffer)
		if err != nil {
			return nil, err
		}
		bd.out = body
		b := &builtTile{}
		if !gz && len(body) > 0 {
			// The builder's buffer goes back to the pool.
			b.plain = bytes.Clone(body)
		}
		// Compressed here, in its turn with the building, when the cache
		// keeps it or the request asks for it.
		if h.cache != nil || gz {
			zipped, err := b.gzipped(&h.gzip, body)
			if err != nil {
				return nil, err
			}
			if h.cache != nil {
				// The key must not pin the request it was cut from.
				key.layers = strings.Clone(list)
				h.cache.Set(key, cachedTile{sum, zipped}, int64(len(zipped)+len(list)+entryOverhead))
			}
		}
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case gz:
		return built.gzipped(&h.gzip, built.plain)
	case built.plain == nil && len(built.gz) > 0:
		// Built for a request that wanted it gzipped.
		return h.gzip.gunzip(built.gz)
	}
	return built.plain, nil
}

// Invalidate drops the cached tiles of every list that holds layer id. The
// catalog calls it when a layer changes (catalog.Catalog.OnChange): lookups
// would miss those tiles anyway, and this frees their memory at once.
func (h *Handler) Invalidate(id string) {
	if h.cache == nil {
		return
	}
	n := h.cache.DeleteFunc(func(k tileKey, _ cachedTile) bool {
		for l := range strings.SplitSeq(k.layers, ",") {
			if l == id {
				return true
			}
		}
		return false
	})
	h.log.Debug("tile cache invalidated", "layer", id, "tiles", n)
}

// tileSum hashes everything the bytes of a tile depend on. It must be the
// same in every replica, so it is FNV rather than the seeded maphash. The
// update time guards against a version number reused by a store that was
// emptied and filled again.
func (h *Handler) tileSum(layers []*catalog.Layer, t maptile.Tile) string {
	b := make([]byte, 0, 128)
	b = append(b, h.revision...)
	b = binary.AppendUvarint(b, uint64(h.opts.Extent))
	b = binary.AppendUvarint(b, uint64(h.opts.Buffer))
	for _, l := range layers {
		b = append(b, l.Info.ID...)
		b = append(b, 0)
		b = binary.AppendVarint(b, l.Info.Version)
		b = binary.AppendVarint(b, l.Info.UpdatedAt.UnixNano())
	}
	b = binary.AppendUvarint(b, uint64(t.Z))
	b = binary.AppendUvarint(b, uint64(t.X))
	b = binary.AppendUvarint(b, uint64(t.Y))
	d := fnv.New128a()
	d.Write(b)
	return hex.EncodeToString(d.Sum(b[:0]))
}

// flight runs one build per key at a time; callers asking for a key being
// built wait for that build rather than start their own.
type flight[T any] struct {
	mu    sync.Mutex
	calls map[string]*call[T]
}

type call[T any] struct {
	done    chan struct{}
	body    T
	err     error
	waiters int
	cancel  context.CancelFunc
}

// do returns fn's result for key. fn runs on a goroutine of its own, with a
// context that ends when every caller waiting for it has given up: a client
// that goes away does not cancel the build for the others, and a tile that
// nobody waits for any more is not finished.
func (f *flight[T]) do(ctx context.Context, key string, fn func(context.Context) (T, error)) (T, error) {
	f.mu.Lock()
	c, ok := f.calls[key]
	if !ok {
		if f.calls == nil {
			f.calls = map[string]*call[T]{}
		}
		bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &call[T]{done: make(chan struct{}), cancel: cancel}
		f.calls[key] = c
		go f.run(bctx, key, c, fn)
	}
	c.waiters++
	f.mu.Unlock()

	select {
	case <-c.done:
		return c.body, c.err
	case <-ctx.Done():
		f.mu.Lock()
		if c.waiters--; c.waiters == 0 {
			c.cancel()
			f.forget(key, c) // a caller arriving now starts afresh
		}
		f.mu.Unlock()
		var zero T
		return zero, ctx.Err()
	}
}

func (f *flight[T]) run(ctx context.Context, key string, c *call[T], fn func(context.Context) (T, error)) {
	defer func() {
		// A panic here would take the whole server down: no HTTP
		// middleware recovers goroutines of their own.
		if r := recover(); r != nil {
			c.err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
		c.cancel()
		f.mu.Lock()
		f.forget(key, c)
		f.mu.Unlock()
		close(c.done)
	}()
	c.body, c.err = fn(ctx)
}

// forget removes c, if it is still the call for key; f.mu must be held.
func (f *flight[T]) forget(key string, c *call[T]) {
	if f.calls[key] == c {
		delete(f.calls, key)
	}
}

// gzipPool reuses gzip writers, each with about a megabyte of compressor
// state (more than most tiles), and their output buffers.
//
// The compressor is github.com/klauspost/compress at level 2, not the
// standard library: gzip was a third of a cold z16 tile even at the
// standard library's BestSpeed. On the dense core's tiles (z14 and z16,
// one core) klauspost's level 2 compressed 1.6-1.8x faster than the
// standard library's BestSpeed for output 1.2-1.4% larger; its level 1
// was slower than level 2 and larger, level 3 3-5% smaller but 30% slower
// than level 2, and StatelessCompression slower at z16 (BENCHMARKS.md has
// the figures). The standard library's default level had been 40% of a
// tile; HuffmanOnly no faster and 30% larger.
type gzipPool struct{ pool, readers sync.Pool }

// gzipLevel is klauspost/compress's level 2; see gzipPool.
const gzipLevel = 2

type gzipper struct {
	buf bytes.Buffer
	zw  *gzip.Writer
}

// compress returns b gzipped, in a slice of its own exact size: it is what
// the cache keeps and counts.
func (p *gzipPool) compress(b []byte) ([]byte, error) {
	g, _ := p.pool.Get().(*gzipper)
	if g == nil {
		g = &gzipper{}
		g.zw, _ = gzip.NewWriterLevel(&g.buf, gzipLevel)
	}
	defer p.pool.Put(g)
	g.buf.Reset()
	g.zw.Reset(&g.buf)
	if _, err := g.zw.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := g.zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return bytes.Clone(g.buf.Bytes()), nil
}

// gunzip serves the rare client that does not take gzip (curl without
// --compressed, some GIS tools): storing the plain bytes as well would more
// than double the cache for them. The gzip trailer gives the size.
func (p *gzipPool) gunzip(b []byte) ([]byte, error) {
	if len(b) < 18 {
		return nil, fmt.Errorf("gunzip cached tile: %d bytes is too short for gzip", len(b))
	}
	zr, _ := p.readers.Get().(*gzip.Reader)
	if zr == nil {
		zr = new(gzip.Reader)
	}
	defer p.readers.Put(zr)
	if err := zr.Reset(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("gunzip cached tile: %w", err)
	}
	out := make([]byte, binary.LittleEndian.Uint32(b[len(b)-4:]))
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, fmt.Errorf("gunzip cached tile: %w", err)
	}
	return out, nil
}
