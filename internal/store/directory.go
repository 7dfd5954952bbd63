package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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

type employerRow struct {
	ID                   int64 `gorm:"primaryKey"`
	CountryID            int64
	Name                 string
	Code                 string
	PriceMinor           *int64 `gorm:"column:price_minor"`
	AutoPublish          bool
	MinMonthlySpendMinor *int64  `gorm:"column:min_monthly_spend_minor"`
	CommitmentStart      *string `gorm:"column:commitment_start"`
	Active               bool
	CreatedAt            time.Time
}

func (employerRow) TableName() string { return "employers" }

type walletRow struct {
	EmployerID   int64 `gorm:"primaryKey"`
	Currency     string
	BalanceMinor int64 `gorm:"column:balance_minor"`
	UpdatedAt    time.Time
}

func (walletRow) TableName() string { return "wallets" }

type keyRow struct {
	ID         int64 `gorm:"primaryKey"`
	EmployerID int64
	Prefix     string
	Hash       string
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

func (keyRow) TableName() string { return "api_keys" }

func (s *Store) countryFromRow(r *countryRow, hosts []string) *atsgate.Country {
	return &atsgate.Country{
		ID: r.ID, Code: r.Code, Name: r.Name, Hosts: hosts, Currency: r.Currency,
		TimeZone: r.TimeZone, Price: fromMinor(r.PriceMinor), PublicURL: r.PublicURL,
		CreatedAt: r.CreatedAt.UTC(), Location: s.location(r.TimeZone),
	}
}

func employerFromRow(r *employerRow) *atsgate.Employer {
	e := &atsgate.Employer{
		ID: r.ID, CountryID: r.CountryID, Name: r.Name, Code: r.Code,
		Price: nullFromMinor(r.PriceMinor), AutoPublish: r.AutoPublish,
		MinMonthlySpend: nullFromMinor(r.MinMonthlySpendMinor), Active: r.Active,
		CreatedAt: r.CreatedAt.UTC(),
	}
	if r.CommitmentStart != nil {
		e.CommitmentStart = *r.CommitmentStart
	}
	return e
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
	var rows []countryRow
	if err := s.db.WithContext(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, translate(err, "countries")
	}
	var hosts []hostRow
	if err := s.db.WithContext(ctx).Order("host").Find(&hosts).Error; err != nil {
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
	var row countryRow
	q := s.db.WithContext(ctx)
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
	if err := s.db.WithContext(ctx).Model(&hostRow{}).Where("country_id = ?", row.ID).Order("host").Pluck("host", &hosts).Error; err != nil {
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
	var row countryRow
	err := s.db.WithContext(ctx).
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

// EmployerInput is atsgate.EmployerInput under its old name.
//
// Deprecated: use atsgate.EmployerInput. The name stays until the tests of
// internal/web, which still spell it so, move over.
type EmployerInput = atsgate.EmployerInput

// CreateEmployer adds an employer and its empty wallet. EINVALID for what
// atsgate.EmployerInput.Validate refuses, ENOTFOUND for an unknown
// country, ECONFLICT for a chosen code already taken.
func (s *Store) CreateEmployer(ctx context.Context, in atsgate.EmployerInput) (*atsgate.Employer, error) {
	e, err := in.Validate()
	if err != nil {
		return nil, err
	}
	row := employerRow{CountryID: e.CountryID, Name: e.Name, PriceMinor: nullToMinor(e.Price), AutoPublish: e.AutoPublish,
		MinMonthlySpendMinor: nullToMinor(e.MinMonthlySpend), Active: e.Active, CreatedAt: s.now().UTC()}
	if e.CommitmentStart != "" {
		row.CommitmentStart = &e.CommitmentStart
	}
	code, explicitCode := e.Code, !in.DerivedCode()
	country, err := s.Country(ctx, fmt.Sprint(e.CountryID))
	if err != nil {
		return nil, err
	}
	create := func(tx *gorm.DB) error {
		row.ID = 0
		row.Code = code
		if !explicitCode {
			// A derived code gets a numeric suffix when taken.
			var taken []string
			if err := tx.Model(&employerRow{}).Where("code = ? OR code LIKE ?", code, code+"_%").Pluck("code", &taken).Error; err != nil {
				return err
			}
			row.Code = uniqueCode(code, taken)
		}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, "employer code "+row.Code)
		}
		return tx.Create(&walletRow{EmployerID: row.ID, Currency: country.Currency, UpdatedAt: row.CreatedAt}).Error
	}
	err = s.transact(ctx, create)
	// Two employers created at once with the same derived code: the loser
	// of the unique index tries again with the next free suffix.
	for attempt := 0; attempt < 10 && !explicitCode && atsgate.ErrorCode(err) == atsgate.ECONFLICT; attempt++ {
		err = s.transact(ctx, create)
	}
	if err != nil {
		return nil, translate(err, "employer")
	}
	return employerFromRow(&row), nil
}

// uniqueCode is base when it is free, else base_2, base_3, … whichever
// comes first that is not taken.
func uniqueCode(base string, taken []string) string {
	set := map[string]bool{}
	for _, t := range taken {
		set[t] = true
	}
	if !set[base] {
		return base
	}
	for i := 2; ; i++ {
		c := fmt.Sprintf("%s_%d", base, i)
		if !set[c] {
			return c
		}
	}
}

// Employers lists employers, optionally of one country, by ID.
func (s *Store) Employers(ctx context.Context, countryID int64) ([]atsgate.Employer, error) {
	var rows []employerRow
	q := s.db.WithContext(ctx).Order("id")
	if countryID != 0 {
		q = q.Where("country_id = ?", countryID)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err, "employers")
	}
	out := make([]atsgate.Employer, len(rows))
	for i := range rows {
		out[i] = *employerFromRow(&rows[i])
	}
	return out, nil
}

// Employer returns one employer. ENOTFOUND.
func (s *Store) Employer(ctx context.Context, id int64) (*atsgate.Employer, error) {
	var row employerRow
	if err := s.db.WithContext(ctx).Take(&row, id).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("employer %d", id))
	}
	return employerFromRow(&row), nil
}

// Balances returns the wallet balance of each employer, by employer ID.
func (s *Store) Balances(ctx context.Context, employerIDs []int64) (map[int64]atsgate.Money, error) {
	var rows []walletRow
	if err := s.db.WithContext(ctx).Where("employer_id IN ?", employerIDs).Find(&rows).Error; err != nil {
		return nil, translate(err, "wallets")
	}
	out := make(map[int64]atsgate.Money, len(rows))
	for _, r := range rows {
		out[r.EmployerID] = atsgate.Money{Amount: fromMinor(r.BalanceMinor), Currency: r.Currency}
	}
	return out, nil
}

// IssueKey creates a new active key for the employer, revoking any active
// one in the same transaction, and returns the plain key: the only time it
// exists outside the caller's hands. With mustHaveActive (rotate) it is
// ENOTFOUND when the employer has no active key.
func (s *Store) IssueKey(ctx context.Context, employerID int64, mustHaveActive bool) (plain string, key *atsgate.APIKey, err error) {
	var emp employerRow
	if err := s.db.WithContext(ctx).Take(&emp, employerID).Error; err != nil {
		return "", nil, translate(err, fmt.Sprintf("employer %d", employerID))
	}
	var country countryRow
	if err := s.db.WithContext(ctx).Take(&country, emp.CountryID).Error; err != nil {
		return "", nil, translate(err, "country")
	}
	plain, hash, prefix, err := atsgate.NewAPIKey(country.Code)
	if err != nil {
		return "", nil, atsgate.Internal(err)
	}
	now := s.now().UTC()
	row := keyRow{EmployerID: employerID, Prefix: prefix, Hash: hash, CreatedAt: now}
	err = s.transact(ctx, func(tx *gorm.DB) error {
		// Key changes of one employer take turns: without this, a concurrent
		// issue's new key is invisible to this UPDATE, so a rotate answers
		// ENOTFOUND and an issue hits the one-active-key index. NO KEY UPDATE
		// leaves job inserts (FOR KEY SHARE on the employer) unblocked.
		if s.dialect == Postgres {
			if err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Select("id").Take(&employerRow{}, employerID).Error; err != nil {
				return err
			}
		}
		res := tx.Model(&keyRow{}).Where("employer_id = ? AND revoked_at IS NULL", employerID).Update("revoked_at", now)
		if res.Error != nil {
			return res.Error
		}
		if mustHaveActive && res.RowsAffected == 0 {
			return atsgate.Errorf(atsgate.ENOTFOUND, "employer %d has no active key to rotate; issue one", employerID)
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return "", nil, translate(err, "api key")
	}
	return plain, &atsgate.APIKey{ID: row.ID, EmployerID: employerID, Prefix: prefix, CreatedAt: now}, nil
}

// DisableKey revokes the employer's active key. ENOTFOUND when none is.
func (s *Store) DisableKey(ctx context.Context, employerID int64) error {
	res := s.db.WithContext(ctx).Model(&keyRow{}).
		Where("employer_id = ? AND revoked_at IS NULL", employerID).Update("revoked_at", s.now().UTC())
	if res.Error != nil {
		return translate(res.Error, "api key")
	}
	if res.RowsAffected == 0 {
		return atsgate.Errorf(atsgate.ENOTFOUND, "employer %d has no active key", employerID)
	}
	return nil
}

// Keys lists an employer's keys, newest first.
func (s *Store) Keys(ctx context.Context, employerID int64) ([]atsgate.APIKey, error) {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Where("employer_id = ?", employerID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, translate(err, "api keys")
	}
	out := make([]atsgate.APIKey, len(rows))
	for i, r := range rows {
		out[i] = atsgate.APIKey{ID: r.ID, EmployerID: r.EmployerID, Prefix: r.Prefix, CreatedAt: r.CreatedAt.UTC(), RevokedAt: timeOrZero(r.RevokedAt)}
	}
	return out, nil
}

// authRow is the one-query join behind Authenticate.
type authRow struct {
	KeyID       int64
	KeyPrefix   string
	Employer    employerRow `gorm:"embedded"`
	CID         int64
	CCode       string
	CName       string
	CCurrency   string
	CTimeZone   string
	CPriceMinor int64
	CPublicURL  string
}

// Authenticate implements atsgate.Directory. Keys are looked up on every
// call, never cached, so a rotation or disable takes effect on the very next
// request on every instance.
func (s *Store) Authenticate(ctx context.Context, keyHash string) (*atsgate.Principal, error) {
	var r authRow
	err := s.db.WithContext(ctx).Raw(`
SELECT k.id AS key_id, k.prefix AS key_prefix,
       e.id, e.country_id, e.name, e.code, e.price_minor, e.auto_publish,
       e.min_monthly_spend_minor, e.commitment_start, e.active, e.created_at,
       c.id AS c_id, c.code AS c_code, c.name AS c_name, c.currency AS c_currency,
       c.time_zone AS c_time_zone, c.price_minor AS c_price_minor, c.public_url AS c_public_url
FROM api_keys k
JOIN employers e ON e.id = k.employer_id
JOIN countries c ON c.id = e.country_id
WHERE k.hash = ? AND k.revoked_at IS NULL`, keyHash).Scan(&r).Error
	if err != nil {
		return nil, translate(err, "api key")
	}
	if r.KeyID == 0 || !r.Employer.Active {
		return nil, atsgate.Errorf(atsgate.EUNAUTHORIZED, "the API key is not valid")
	}
	c := countryRow{ID: r.CID, Code: r.CCode, Name: r.CName, Currency: r.CCurrency, TimeZone: r.CTimeZone,
		PriceMinor: r.CPriceMinor, PublicURL: r.CPublicURL}
	return &atsgate.Principal{
		Employer:  *employerFromRow(&r.Employer),
		Country:   *s.countryFromRow(&c, nil),
		KeyID:     r.KeyID,
		KeyPrefix: r.KeyPrefix,
	}, nil
}
