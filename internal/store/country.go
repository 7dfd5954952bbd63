package store

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

type countryRow struct {
	ID         int64 `gorm:"primaryKey"`
	Code       string
	Name       string
	Currency   string
	TimeZone   string `gorm:"column:time_zone"`
	PriceMinor int64  `gorm:"column:price_minor"`
	PublicURL  string `gorm:"column:public_url"`
	CreatedAt  time.Time
}

func (countryRow) TableName() string { return "countries" }

type hostRow struct {
	Host      string `gorm:"primaryKey"`
	CountryID int64
}

func (hostRow) TableName() string { return "country_hosts" }

func (s *Store) countryFromRow(r *countryRow, hosts []string) *atsgate.Country {
	return &atsgate.Country{
		ID: r.ID, Code: r.Code, Name: r.Name, Hosts: hosts, Currency: r.Currency,
		TimeZone: r.TimeZone, Price: fromMinor(r.PriceMinor), PublicURL: r.PublicURL,
		CreatedAt: r.CreatedAt.UTC(), Location: s.location(r.TimeZone),
	}
}

// CreateCountry adds a country with its hosts. ECONFLICT when the code or a
// host is taken, EINVALID for what atsgate.Country.Validate refuses.
func (s *Store) CreateCountry(ctx context.Context, c atsgate.Country) (*atsgate.Country, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	row := countryRow{Code: c.Code, Name: c.Name, Currency: c.Currency, TimeZone: c.TimeZone,
		PriceMinor: toMinor(c.Price), PublicURL: c.PublicURL, CreatedAt: s.now().UTC()}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, "country "+c.Code)
		}
		for _, h := range c.Hosts {
			if err := tx.Create(&hostRow{Host: h, CountryID: row.ID}).Error; err != nil {
				return translate(err, "host "+h)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.hosts.invalidate()
	return s.countryFromRow(&row, c.Hosts), nil
}

// Countries lists every country with its hosts, by code.
func (s *Store) Countries(ctx context.Context) ([]atsgate.Country, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []countryRow
	if err := s.rdb.WithContext(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, translate(err, "countries")
	}
	var hosts []hostRow
	if err := s.rdb.WithContext(ctx).Order("host").Find(&hosts).Error; err != nil {
		return nil, translate(err, "hosts")
	}
	byCountry := map[int64][]string{}
	for _, h := range hosts {
		byCountry[h.CountryID] = append(byCountry[h.CountryID], h.Host)
	}
	out := make([]atsgate.Country, len(rows))
	for i := range rows {
		out[i] = *s.countryFromRow(&rows[i], byCountry[rows[i].ID])
	}
	return out, nil
}

// Country returns a country by ID or two-letter code. ENOTFOUND.
func (s *Store) Country(ctx context.Context, idOrCode string) (*atsgate.Country, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var row countryRow
	q := s.rdb.WithContext(ctx)
	if atsgate.IsCountryCode(strings.ToLower(idOrCode)) {
		q = q.Where("code = ?", strings.ToLower(idOrCode))
	} else if id, err := strconv.ParseInt(idOrCode, 10, 64); err == nil {
		q = q.Where("id = ?", id)
	} else {
		// Neither a code nor an ID: PostgreSQL would refuse to compare
		// it with a bigint column, an internal error for bad input.
		return nil, atsgate.Errorf(atsgate.ENOTFOUND, "country %s not found", idOrCode)
	}
	if err := q.Take(&row).Error; err != nil {
		return nil, translate(err, "country "+idOrCode)
	}
	var hosts []string
	if err := s.rdb.WithContext(ctx).Model(&hostRow{}).Where("country_id = ?", row.ID).Order("host").Pluck("host", &hosts).Error; err != nil {
		return nil, translate(err, "hosts")
	}
	return s.countryFromRow(&row, hosts), nil
}

// CountryByHost implements atsgate.Directory. Every API request resolves
// its host, known or not, so the answer comes from an in-memory table of
// every host, reloaded at most once per hostTableTTL: a host that no
// country serves costs no query, however many arrive (SPEC 8: requests
// that fail before authentication cost no unbounded work). A miss on a
// table older than the TTL reloads it first, so a country added on
// another instance is served within hostTableTTL.
func (s *Store) CountryByHost(ctx context.Context, host string) (*atsgate.Country, error) {
	host = atsgate.NormalizeHost(host)
	c, err := s.hosts.find(ctx, host, s.Countries)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, atsgate.Errorf(atsgate.EUNKNOWNHOST, "no country site is served on this host")
	}
	return c, nil
}

// hostTableTTL bounds how stale the host table may be. Countries are never
// edited or removed, so today staleness only delays a new country on other
// instances; the TTL bounds it should editing ever be added.
const hostTableTTL = 2 * time.Second

// hostTable is every host with its country, as last loaded. Lookups read
// an immutable snapshot without a lock, so every API request's host check
// costs a map read, and a reload (which waits on the database) never
// holds up the requests for hosts the snapshot already knows.
type hostTable struct {
	snap       atomic.Pointer[hostSnapshot]
	reload     sync.Mutex  // one reload at a time; misses wait for it
	refreshing atomic.Bool // a background reload is running
	loads      atomic.Int64
}

// hostSnapshot is one load of the host table.
type hostSnapshot struct {
	at     time.Time
	byHost map[string]atsgate.Country
}

// hostReloadTimeout bounds a background reload of the table.
const hostReloadTimeout = 5 * time.Second

// find returns the country of host, or nil when no country serves it.
// A host the snapshot knows is answered at once, stale or not (countries
// are never removed), and a stale snapshot is then reloaded in the
// background. A host it does not know, on a stale snapshot, waits for a
// reload, one for all the callers that ask meanwhile.
func (t *hostTable) find(ctx context.Context, host string, load func(context.Context) ([]atsgate.Country, error)) (*atsgate.Country, error) {
	snap := t.snap.Load()
	if snap != nil {
		if c, ok := snap.byHost[host]; ok {
			if !snap.fresh() {
				t.refreshInBackground(load)
			}
			return &c, nil // a copy: callers may not share it
		}
		if snap.fresh() {
			return nil, nil
		}
	}
	t.reload.Lock()
	defer t.reload.Unlock()
	// Another caller may have reloaded while this one waited.
	if snap = t.snap.Load(); snap == nil || !snap.fresh() {
		if err := t.load(ctx, load); err != nil {
			return nil, err
		}
		snap = t.snap.Load()
	}
	if c, ok := snap.byHost[host]; ok {
		return &c, nil
	}
	return nil, nil
}

// fresh reports whether the snapshot is recent enough to trust a miss.
func (s *hostSnapshot) fresh() bool { return !s.at.IsZero() && time.Since(s.at) < hostTableTTL }

// load replaces the snapshot with what load returns.
func (t *hostTable) load(ctx context.Context, load func(context.Context) ([]atsgate.Country, error)) error {
	countries, err := load(ctx)
	if err != nil {
		return err
	}
	t.loads.Add(1)
	byHost := make(map[string]atsgate.Country, 2*len(countries))
	for _, k := range countries {
		for _, h := range k.Hosts {
			byHost[h] = k
		}
	}
	t.snap.Store(&hostSnapshot{at: time.Now(), byHost: byHost})
	return nil
}

// refreshInBackground reloads the snapshot off the request path, once at
// a time; a failure leaves the stale snapshot to answer.
func (t *hostTable) refreshInBackground(load func(context.Context) ([]atsgate.Country, error)) {
	if !t.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer t.refreshing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), hostReloadTimeout)
		defer cancel()
		t.reload.Lock()
		defer t.reload.Unlock()
		_ = t.load(ctx, load)
	}()
}

// invalidate makes the next miss reload, as after adding a country here.
func (t *hostTable) invalidate() {
	if snap := t.snap.Load(); snap != nil {
		t.snap.Store(&hostSnapshot{byHost: snap.byHost})
	}
}
