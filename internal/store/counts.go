package store

import (
	"sync"
	"time"
)

// searchCounts remembers how many jobs each public search matched the last
// time it went to PostgreSQL's text index, so a search known to match few
// jobs skips the walk over the newest jobs that would not fill its page
// (Postings). Both plans give the same page, so a stale count only costs
// time, and every index plan counts again: a search that has since become
// common walks on its next request.
type searchCounts struct {
	mu sync.Mutex
	m  map[string]searchCount
}

type searchCount struct {
	n  int64
	at time.Time
}

const (
	// searchCountTTL bounds how long a count is trusted without a search
	// refreshing it.
	searchCountTTL = 5 * time.Minute
	// searchCountsMax bounds the map (keys are searches visitors typed);
	// a full map starts over.
	searchCountsMax = 1 << 14
	// searchKeyMax leaves out searches too long to be worth remembering.
	searchKeyMax = 512
)

// few reports whether key was counted under rare matches within the TTL.
func (c *searchCounts) few(key string, rare int, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	return ok && e.n < int64(rare) && now.Sub(e.at) < searchCountTTL
}

// set records key's count of matches.
func (c *searchCounts) set(key string, n int64, now time.Time) {
	if len(key) > searchKeyMax {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= searchCountsMax {
		c.m = make(map[string]searchCount)
	}
	c.m[key] = searchCount{n: n, at: now}
}
