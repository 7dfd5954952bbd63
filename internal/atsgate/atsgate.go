// Package atsgate holds the domain of the inbound job API: countries,
// employers, API keys, jobs, the wallet ledger, the error codes every layer
// speaks, and the interfaces the adapters (store, HTTP, CLI) meet at.
//
// It imports only the standard library and shopspring/decimal, so every
// adapter can depend on it and it depends on none of them.
package atsgate

import (
	"time"

	"github.com/shopspring/decimal"
)

// Clock returns the current time. Services take one so tests can move time.
type Clock func() time.Time

// Dialects a job can arrive through.
const (
	DialectATS = "ats"
	DialectERP = "erp"
)

// Country is one site of the board: its hosts, currency, time zone and the
// default price of a job.
type Country struct {
	ID        int64
	Code      string // two lowercase letters, e.g. "gh"
	Name      string
	Hosts     []string
	Currency  string // ISO 4217, e.g. "GHS"
	TimeZone  string // IANA name, e.g. "Africa/Accra"
	Price     decimal.Decimal
	PublicURL string // e.g. "https://gh.example.com", no trailing slash
	CreatedAt time.Time

	// Location is TimeZone loaded; the store fills it.
	Location *time.Location
}

// Local converts t to the country's time zone.
func (c *Country) Local(t time.Time) time.Time {
	if c.Location == nil {
		return t.UTC()
	}
	return t.In(c.Location)
}

// Today is the current calendar date in the country, as "2006-01-02".
func (c *Country) Today(now time.Time) string {
	return c.Local(now).Format(DateLayout)
}

// Employer is a customer of one country that posts jobs and owns a wallet.
type Employer struct {
	ID          int64
	CountryID   int64
	Name        string
	Code        string              // short upper-case code, used in ERP job IDs
	Price       decimal.NullDecimal // per-job price override; else the country's
	AutoPublish bool
	// MinMonthlySpend is the committed minimum spend per calendar month,
	// from CommitmentStart ("2006-01") on.
	MinMonthlySpend decimal.NullDecimal
	CommitmentStart string
	Active          bool
	CreatedAt       time.Time
}

// JobPrice is what one accepted job costs this employer in country c.
func (e *Employer) JobPrice(c *Country) decimal.Decimal {
	if e.Price.Valid {
		return e.Price.Decimal
	}
	return c.Price
}

// Principal is an authenticated API caller: the employer a key belongs to,
// that employer's country, and the key's public prefix for logs.
type Principal struct {
	Employer  Employer
	Country   Country
	KeyID     int64
	KeyPrefix string
}

// Actor names who did something, for ledger entries and job events:
// "api:mjm_gh_AbCd", "cli:root", "admin:alice".
func (p *Principal) Actor() string { return "api:" + p.KeyPrefix }

// Date and time layouts of the wire format ("Y-m-d" and "Y-m-d H:i:s").
const (
	DateLayout     = "2006-01-02"
	DateTimeLayout = "2006-01-02 15:04:05"
	MonthLayout    = "2006-01"
)
