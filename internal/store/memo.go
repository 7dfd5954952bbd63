package store

import "sync"

// memo is a bounded map for what a process remembers only to save work
// (knownJobs, searchCounts): anything in it may be lost at any moment
// without a wrong answer, so a full map simply starts over instead of
// tracking what to evict.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

func (c *memo[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

// put stores v under k, starting over when the map holds max entries.
func (c *memo[K, V]) put(k K, v V, max int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= max {
		c.m = make(map[K]V)
	}
	c.m[k] = v
}
