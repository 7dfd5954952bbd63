package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
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
	s.hosts.Clear()
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

// CountryByHost implements atsgate.Directory.
func (s *Store) CountryByHost(ctx context.Context, host string) (*atsgate.Country, error) {
	host = atsgate.NormalizeHost(host)
	if e, ok := s.hosts.Load(host); ok && time.Since(e.(hostEntry).at) < hostCacheTTL {
		c := e.(hostEntry).country // a copy: callers may not share it
		return &c, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var row countryRow
	err := s.rdb.WithContext(ctx).
		Joins("JOIN country_hosts h ON h.country_id = countries.id").
		Where("h.host = ?", host).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, atsgate.Errorf(atsgate.EUNKNOWNHOST, "no country site is served on this host")
	}
	if err != nil {
		return nil, translate(err, "country by host")
	}
	c := s.countryFromRow(&row, nil)
	s.hosts.Store(host, hostEntry{country: *c, at: time.Now()})
	return c, nil
}

// hostCacheTTL is how long CountryByHost remembers a host's country: every
// API request resolves its host, and this saves a query on each. Only found
// hosts are kept (the cache is as small as the host list, and a country
// added on another instance is found at once), and countries are never
// edited or removed, so today it cannot serve a stale answer; the TTL
// bounds staleness should editing ever be added. API keys are never cached.
const hostCacheTTL = 2 * time.Second

type hostEntry struct {
	country atsgate.Country
	at      time.Time
}
