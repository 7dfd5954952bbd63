package store

import "time"

// searchCounts remembers, per country and public search, how many jobs
// matched the last time its first page came from PostgreSQL's text index,
// which is when the walk over the newest jobs did not fill that page (or
// was skipped): such a search goes to the index at once next time, as long
// as its matches were not so many that sorting them costs more than the
// walk might save (indexSortMax). Both plans give the same page, so a
// stale count only costs time, every index plan counts again, and a count
// is trusted for searchCountTTL.
type searchCounts struct{ m memo[string, searchCount] }

type searchCount struct {
	n  int64
	at time.Time
}

const (
	// searchCountTTL bounds how long a count is trusted without a search
	// refreshing it.
	searchCountTTL = 5 * time.Minute
	// searchCountsMax bounds the map (keys are searches visitors typed).
	searchCountsMax = 1 << 14
	// searchKeyMax leaves out searches too long to be worth remembering.
	searchKeyMax = 512
)

// indexSortMax is how many matches, in RareMatches, a search may have had
// for its next first page to skip the walk: about 16,000, which the index
// plan sorts in some 50 ms at a million jobs; past that, walking first and
// the walk's chance of filling the page are worth their 2 ms again.
const indexSortMax = 8

// toIndex reports whether key's first page came from the index within the
// TTL, with fewer than indexSortMax × rare matches.
func (c *searchCounts) toIndex(key string, rare int, now time.Time) bool {
	e, ok := c.m.get(key)
	return ok && e.n < int64(indexSortMax*rare) && now.Sub(e.at) < searchCountTTL
}

// set records key's count of matches.
func (c *searchCounts) set(key string, n int64, now time.Time) {
	if len(key) > searchKeyMax {
		return
	}
	c.m.put(key, searchCount{n: n, at: now}, searchCountsMax)
}
