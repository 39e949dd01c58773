package lru

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// op is one call on the cache: 's' Set, 'g' Get, 'd' Delete.
type op struct {
	kind byte
	key  string
	size int64
}

func TestCache(t *testing.T) {
	tests := []struct {
		name string
		max  int64
		ops  []op
		want []string // keys left, most recent first
	}{
		{"fits", 10, []op{{'s', "a", 3}, {'s', "b", 3}, {'s', "c", 4}}, []string{"c", "b", "a"}},
		{"evicts the oldest", 10, []op{{'s', "a", 3}, {'s', "b", 3}, {'s', "c", 5}}, []string{"c", "b"}},
		{"get protects", 10, []op{{'s', "a", 3}, {'s', "b", 3}, {'g', "a", 0}, {'s', "c", 5}}, []string{"c", "a"}},
		{"evicts several", 10, []op{{'s', "a", 3}, {'s', "b", 3}, {'s', "c", 3}, {'s', "d", 9}}, []string{"d"}},
		{"replace resizes", 10, []op{{'s', "a", 3}, {'s', "b", 3}, {'s', "a", 7}}, []string{"a", "b"}},
		{"replace evicts others", 10, []op{{'s', "a", 3}, {'s', "b", 3}, {'s', "a", 8}}, []string{"a"}},
		{"too big is refused", 10, []op{{'s', "a", 3}, {'s', "b", 11}}, []string{"a"}},
		{"too big drops the old value", 10, []op{{'s', "a", 3}, {'s', "a", 11}}, nil},
		{"exactly the bound", 10, []op{{'s', "a", 3}, {'s', "b", 10}}, []string{"b"}},
		{"delete", 10, []op{{'s', "a", 3}, {'s', "b", 3}, {'d', "a", 0}, {'s', "c", 7}}, []string{"c", "b"}},
		{"zero bound keeps empty values", 0, []op{{'s', "a", 0}, {'s', "b", 1}}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New[string, int](tt.max)
			for _, o := range tt.ops {
				switch o.kind {
				case 's':
					c.Set(o.key, int(o.size), o.size)
				case 'g':
					c.Get(o.key)
				case 'd':
					c.Delete(o.key)
				}
			}
			if got := order(c); !slices.Equal(got, tt.want) {
				t.Errorf("keys %v, want %v", got, tt.want)
			}
			var sum int64
			for _, k := range tt.want {
				v, ok := c.Get(k)
				if !ok {
					t.Fatalf("Get(%q) missing", k)
				}
				sum += int64(v) // each value is its size
			}
			if c.Bytes() != sum || c.Len() != len(tt.want) {
				t.Errorf("Bytes %d Len %d, want %d and %d", c.Bytes(), c.Len(), sum, len(tt.want))
			}
		})
	}
}

// order lists the keys from the most to the least recently used, walking
// the list both ways to check its links.
func order[K comparable, V any](c *Cache[K, V]) []K {
	c.mu.Lock()
	defer c.mu.Unlock()
	var fwd, back []K
	for n := c.root.next; n != &c.root; n = n.next {
		fwd = append(fwd, n.key)
	}
	for n := c.root.prev; n != &c.root; n = n.prev {
		back = append(back, n.key)
	}
	slices.Reverse(back)
	if !slices.Equal(fwd, back) || len(fwd) != len(c.items) {
		panic(fmt.Sprintf("broken list: forward %v, backward %v, %d in the map", fwd, back, len(c.items)))
	}
	return fwd
}

// TestCacheModel runs random operations on the cache and on a plain slice
// that does the same thing the slow way, and compares them after each step.
func TestCacheModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type entry struct {
		key  int
		size int64
	}
	const max = 100
	c := New[int, int64](max)
	var model []entry // most recent first
	find := func(k int) int {
		return slices.IndexFunc(model, func(e entry) bool { return e.key == k })
	}
	for step := range 20_000 {
		k := rng.IntN(40)
		switch r := rng.IntN(10); {
		case r < 5:
			size := rng.Int64N(30)
			if rng.IntN(50) == 0 {
				size = max + 1
			}
			c.Set(k, size, size)
			if i := find(k); i >= 0 {
				model = slices.Delete(model, i, i+1)
			}
			if size <= max {
				model = slices.Insert(model, 0, entry{k, size})
				var total int64
				for i, e := range model {
					if total += e.size; total > max {
						model = model[:i]
						break
					}
				}
			}
		case r < 9:
			v, ok := c.Get(k)
			i := find(k)
			if ok != (i >= 0) || ok && v != model[i].size {
				t.Fatalf("step %d: Get(%d) = %d, %v; model has index %d", step, k, v, ok, i)
			}
			if i >= 0 {
				e := model[i]
				model = slices.Insert(slices.Delete(model, i, i+1), 0, e)
			}
		default:
			ok := c.Delete(k)
			i := find(k)
			if ok != (i >= 0) {
				t.Fatalf("step %d: Delete(%d) = %v; model has index %d", step, k, ok, i)
			}
			if i >= 0 {
				model = slices.Delete(model, i, i+1)
			}
		}
		var keys []int
		var total int64
		for _, e := range model {
			keys = append(keys, e.key)
			total += e.size
		}
		if got := order(c); !slices.Equal(got, keys) || c.Bytes() != total {
			t.Fatalf("step %d: cache %v (%d bytes), model %v (%d bytes)", step, got, c.Bytes(), keys, total)
		}
	}
}

func TestDeleteFunc(t *testing.T) {
	c := New[string, int](100)
	for i := range 10 {
		c.Set(fmt.Sprint(i), i, 1)
	}
	if n := c.DeleteFunc(func(_ string, v int) bool { return v%2 == 0 }); n != 5 {
		t.Errorf("deleted %d, want 5", n)
	}
	if got, want := order(c), []string{"9", "7", "5", "3", "1"}; !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
	if c.Bytes() != 5 {
		t.Errorf("Bytes %d, want 5", c.Bytes())
	}
}

// TestConcurrent is for the race detector: readers, writers and bulk
// deletes at once, then the invariants.
func TestConcurrent(t *testing.T) {
	const max = 1000
	c := New[int, []byte](max)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 20_000 {
				k := rng.IntN(200)
				switch rng.IntN(20) {
				case 0:
					c.DeleteFunc(func(k int, _ []byte) bool { return k%7 == 0 })
				case 1:
					c.Delete(k)
				case 2, 3, 4, 5:
					c.Set(k, make([]byte, k%50), int64(k%50))
				default:
					if v, ok := c.Get(k); ok && len(v) != k%50 {
						t.Errorf("Get(%d) returned %d bytes, want %d", k, len(v), k%50)
					}
				}
			}
		})
	}
	wg.Wait()
	var sum int64
	for _, k := range order(c) {
		v, _ := c.Get(k)
		sum += int64(len(v))
	}
	if b := c.Bytes(); b != sum || b > max {
		t.Errorf("Bytes %d, entries add up to %d, bound %d", b, sum, max)
	}
}

func BenchmarkGet(b *testing.B) {
	c := New[int, []byte](1 << 20)
	for i := range 1000 {
		c.Set(i, make([]byte, 100), 100)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := c.Get(i % 1000); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkGetParallel(b *testing.B) {
	c := New[int, []byte](1 << 20)
	for i := range 1000 {
		c.Set(i, make([]byte, 100), 100)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Get(i % 1000)
			i++
		}
	})
}

// BenchmarkSetFull sets new keys into a full cache: every Set evicts one
// entry and reuses its node.
func BenchmarkSetFull(b *testing.B) {
	c := New[int, []byte](100 * 1000)
	v := make([]byte, 100)
	for i := range 1000 {
		c.Set(i, v, 100)
	}
	b.ReportAllocs()
	for i := 1000; b.Loop(); i++ {
		c.Set(i, v, 100)
	}
}
