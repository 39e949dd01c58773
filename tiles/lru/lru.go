// Package lru is a least-recently-used cache bounded by the bytes its values
// take rather than by their number: tiles range from a few bytes to a few
// hundred kilobytes, so a count says little about memory.
//
// It is safe for concurrent use. One mutex guards it: every Get moves an
// entry to the front of the list, so readers write too and a read-write lock
// would buy nothing. Once the cache is full, each Set reuses the node it
// evicts, so a cache in its steady state allocates nothing but map growth.
package lru

import "sync"

// Cache maps keys to values, dropping the least recently used entries when
// the sizes given to Set add up to more than its bound.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	max   int64
	bytes int64
	items map[K]*node[K, V]
	// root is the sentinel of a circular list: root.next is the most
	// recently used entry, root.prev the least.
	root node[K, V]
}

type node[K comparable, V any] struct {
	key        K
	val        V
	size       int64
	prev, next *node[K, V]
}

// New returns a cache that holds at most maxBytes, as counted by Set.
func New[K comparable, V any](maxBytes int64) *Cache[K, V] {
	c := &Cache[K, V]{max: maxBytes, items: map[K]*node[K, V]{}}
	c.root.next, c.root.prev = &c.root, &c.root
	return c
}

// Get returns the value for key and marks it as the most recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.unlink(n)
	c.pushFront(n)
	return n.val, true
}

// Set stores val under key, replacing what was there, as taking size bytes
// (the caller counts what it cares about: payload, key, overhead). Least
// recently used entries go until the cache is within its bound. A value
// larger than the whole bound is not stored, and any old value for key goes.
func (c *Cache[K, V]) Set(key K, val V, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[key]; ok {
		c.remove(old)
	}
	if size > c.max {
		return
	}
	var n *node[K, V]
	for c.bytes+size > c.max {
		n = c.root.prev
		c.remove(n)
	}
	if n == nil {
		n = &node[K, V]{}
	}
	*n = node[K, V]{key: key, val: val, size: size}
	c.items[key] = n
	c.bytes += size
	c.pushFront(n)
}

// Delete removes key and reports whether it was there.
func (c *Cache[K, V]) Delete(key K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.items[key]
	if ok {
		c.remove(n)
	}
	return ok
}

// DeleteFunc removes every entry for which del returns true and returns how
// many went. It holds the lock throughout, so del must be quick and must not
// use the cache.
func (c *Cache[K, V]) DeleteFunc(del func(K, V) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.items {
		if del(e.key, e.val) {
			c.remove(e)
			n++
		}
	}
	return n
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Bytes is the sum of the sizes of the entries.
func (c *Cache[K, V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// remove takes n out of the map and the list; its node may then be reused.
func (c *Cache[K, V]) remove(n *node[K, V]) {
	delete(c.items, n.key)
	c.unlink(n)
	c.bytes -= n.size
	var zero V
	n.val = zero // let the value be collected even if the node lingers
}

func (c *Cache[K, V]) unlink(n *node[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (c *Cache[K, V]) pushFront(n *node[K, V]) {
	n.prev, n.next = &c.root, c.root.next
	c.root.next.prev = n
	c.root.next = n
}
