package wire

import "github.com/atsgate/atsgate/internal/atsgate"

// Country is a country site: its hosts, currency, time zone and the
// default price of a job.
type Country struct {
	ID        int64    `json:"id"`
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Hosts     []string `json:"hosts"`
	Currency  string   `json:"currency"`
	TimeZone  string   `json:"time_zone"`
	Price     string   `json:"price"`
	PublicURL string   `json:"public_url"`
}

// NewCountry is c on the wire.
func NewCountry(c *atsgate.Country) Country {
	return Country{ID: c.ID, Code: c.Code, Name: c.Name, Hosts: c.Hosts, Currency: c.Currency,
		TimeZone: c.TimeZone, Price: amount(c.Price), PublicURL: c.PublicURL}
}

// NewCountries is cs on the wire, [] rather than null when there are none.
func NewCountries(cs []atsgate.Country) []Country {
	out := make([]Country, len(cs))
	for i := range cs {
		out[i] = NewCountry(&cs[i])
	}
	return out
}

// CountryList is the admin API's list of countries.
type CountryList struct {
	Countries []Country `json:"countries"`
}

// Employer is an employer with its wallet balance.
//
// Price is what a job costs the employer, whoever set it: readers want the
// price that is charged, not a rule to apply. PriceOverride says whether
// that is the employer's own price (its value) or the country's (null), so
// an operator can tell which change moves it.
type Employer struct {
	ID            int64   `json:"id"`
	CountryID     int64   `json:"country_id"`
	Country       string  `json:"country"` // the country's code
	Name          string  `json:"name"`
	Code          string  `json:"code"`
	Active        bool    `json:"active"`
	AutoPublish   bool    `json:"auto_publish"`
	Price         string  `json:"price"`
	PriceOverride *string `json:"price_override"`
	// MinMonthlySpend and CommitmentStart ("2006-01") are absent for an
	// employer without a minimum-spend commitment.
	MinMonthlySpend string `json:"min_monthly_spend,omitempty"`
	CommitmentStart string `json:"commitment_start,omitempty"`
	Balance         string `json:"balance"`
	Currency        string `json:"currency"`
}

// NewEmployer is e, of country c, on the wire with its wallet balance. A
// balance without a currency (an employer the caller found no wallet for)
// reads as zero in the country's currency.
func NewEmployer(e *atsgate.Employer, c *atsgate.Country, balance atsgate.Money) Employer {
	out := Employer{ID: e.ID, CountryID: e.CountryID, Country: c.Code, Name: e.Name, Code: e.Code,
		Active: e.Active, AutoPublish: e.AutoPublish, Price: amount(e.JobPrice(c)),
		CommitmentStart: e.CommitmentStart, Balance: amount(balance.Amount), Currency: balance.Currency}
	if e.Price.Valid {
		p := amount(e.Price.Decimal)
		out.PriceOverride = &p
	}
	if e.MinMonthlySpend.Valid {
		out.MinMonthlySpend = amount(e.MinMonthlySpend.Decimal)
	}
	if out.Currency == "" {
		out.Currency = c.Currency
	}
	return out
}

// EmployerList is the admin API's page of employers. NextAfter, when
// present, is the ?after= of the next page.
type EmployerList struct {
	Employers []Employer `json:"employers"`
	NextAfter int64      `json:"next_after,omitempty"`
}

// EmployerDetail is the admin API's employer with its API keys, newest
// first.
type EmployerDetail struct {
	Employer Employer `json:"employer"`
	Keys     []APIKey `json:"keys"`
}

// APIKey is an employer's API key as listings show it: its public prefix,
// never the secret.
type APIKey struct {
	Prefix    string `json:"prefix"`
	CreatedAt string `json:"created_at"`
	RevokedAt string `json:"revoked_at"` // "" while active
}

// NewAPIKeys is keys on the wire, [] rather than null when there are none.
func NewAPIKeys(keys []atsgate.APIKey) []APIKey {
	out := make([]APIKey, len(keys))
	for i, k := range keys {
		out[i] = APIKey{Prefix: k.Prefix, CreatedAt: instant(k.CreatedAt), RevokedAt: instant(k.RevokedAt)}
	}
	return out
}

// IssuedKey is a new API key, the only time its secret is ever printed.
type IssuedKey struct {
	EmployerID int64  `json:"employer_id"`
	Key        string `json:"key"`
	Prefix     string `json:"prefix"`
	CreatedAt  string `json:"created_at"`
	Note       string `json:"note"`
}

// issuedKeyNote travels with every issued key, so whoever reads the JSON
// (a script's log, a colleague) learns what issuing did.
const issuedKeyNote = "the key is shown once; any previous key has stopped working"

// NewIssuedKey is the plain key plain, just issued as k, on the wire.
func NewIssuedKey(plain string, k *atsgate.APIKey) IssuedKey {
	return IssuedKey{EmployerID: k.EmployerID, Key: plain, Prefix: k.Prefix, CreatedAt: instant(k.CreatedAt), Note: issuedKeyNote}
}

// KeyDisabled answers the disabling of an employer's API key.
type KeyDisabled struct {
	EmployerID int64 `json:"employer_id"`
	Disabled   bool  `json:"disabled"`
}
