package features

import (
	"sync"
	"sync/atomic"

	"github.com/csdi-hk/csdi/catalog"
)

// encodedCache keeps the GeoJSON of each feature of a layer snapshot as it
// was first written in CRS84, within a budget of bytes shared by all
// layers. A snapshot never changes, so neither does its GeoJSON; reading
// the scattered geometry and property map of every feature again on each
// request cost more than everything else in an items page together.
type encodedCache struct {
	mu     sync.Mutex
	layers map[string]*encodedLayer // by layer id: the snapshot last served
	bytes  atomic.Int64             // held over all layers
}

// maxEncodedBytes bounds the GeoJSON kept; past it features are written
// afresh each time.
const maxEncodedBytes = 256 << 20

type encodedLayer struct {
	layer *catalog.Layer
	feats []atomic.Pointer[[]byte] // by index into the layer
	bytes atomic.Int64
}

// of returns the cache of l, dropping that of an older snapshot of it.
func (c *encodedCache) of(l *catalog.Layer) *encodedLayer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.layers[l.Info.ID]; ok && e.layer == l {
		return e
	}
	if c.layers == nil {
		c.layers = map[string]*encodedLayer{}
	}
	if old, ok := c.layers[l.Info.ID]; ok {
		// A request still writing the old snapshot may add a little after
		// this; the budget then errs towards keeping less.
		c.bytes.Add(-old.bytes.Load())
	}
	e := &encodedLayer{layer: l, feats: make([]atomic.Pointer[[]byte], l.Len())}
	c.layers[l.Info.ID] = e
	return e
}

// get returns the GeoJSON of the i-th feature, if kept.
func (e *encodedLayer) get(i int) ([]byte, bool) {
	if p := e.feats[i].Load(); p != nil {
		return *p, true
	}
	return nil, false
}

// put keeps a copy of j, the GeoJSON of the i-th feature, if the budget
// allows.
func (e *encodedLayer) put(c *encodedCache, i int, j []byte) {
	n := int64(len(j) + 32)
	if c.bytes.Load()+n > maxEncodedBytes {
		return
	}
	kept := append([]byte(nil), j...)
	if e.feats[i].CompareAndSwap(nil, &kept) {
		c.bytes.Add(n)
		e.bytes.Add(n)
	}
}
