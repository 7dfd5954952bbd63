package atsgate

import (
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// employerCodeRE is the shape of an employer code: it appears in ERP job
// IDs, so it is short and plain.
var employerCodeRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_]{0,31}$`)

// EmployerInput is what an operator gives to create an employer, as typed
// on the CLI or in the back office: amounts are still text, so that one
// place decides what a valid amount is.
type EmployerInput struct {
	CountryID       int64
	Name            string
	Code            string // optional; derived from the name when empty
	Price           string // optional decimal override
	AutoPublish     bool
	MinMonthlySpend string // optional decimal
	CommitmentStart string // "2006-01", required with MinMonthlySpend
}

// Validate checks in and returns the employer it describes, not yet
// stored: the name trimmed, the code upper-cased or derived from the name,
// the amounts parsed, active. Its error is an EINVALID listing every bad
// field by its wire name. Whether CountryID names a country is left to the
// store, which alone knows.
func (in EmployerInput) Validate() (*Employer, error) {
	fields := map[string]string{}
	e := &Employer{CountryID: in.CountryID, Name: strings.TrimSpace(in.Name), AutoPublish: in.AutoPublish, Active: true}
	if e.Name == "" {
		fields["name"] = "is required"
	}
	if in.Price != "" {
		if p, err := ParseAmount(in.Price); err != nil || p.IsNegative() {
			fields["price"] = "must be a non-negative amount with at most two decimals"
		} else {
			e.Price = decimal.NewNullDecimal(p)
		}
	}
	if in.MinMonthlySpend != "" {
		if m, err := ParseAmount(in.MinMonthlySpend); err != nil || m.IsNegative() {
			fields["min_monthly_spend"] = "must be a non-negative amount with at most two decimals"
		} else {
			e.MinMonthlySpend = decimal.NewNullDecimal(m)
		}
		if _, err := time.Parse(MonthLayout, in.CommitmentStart); err != nil {
			fields["commitment_start"] = "must be a month such as 2026-10"
		} else {
			e.CommitmentStart = in.CommitmentStart
		}
	} else if in.CommitmentStart != "" {
		fields["min_monthly_spend"] = "is required with commitment_start"
	}
	e.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	if in.DerivedCode() {
		e.Code = codeFromName(e.Name)
	}
	if !employerCodeRE.MatchString(e.Code) {
		fields["code"] = "must be 1–32 upper-case letters, digits or underscores"
	}
	if len(fields) > 0 {
		return nil, Invalid(fields)
	}
	return e, nil
}

// DerivedCode reports whether the employer's code is derived from its
// name rather than chosen. A derived code that is taken gets a numeric
// suffix ("ACME_2"); a chosen one is used as given or refused as taken.
func (in EmployerInput) DerivedCode() bool { return strings.TrimSpace(in.Code) == "" }

// codeFromName is the first ten ASCII letters and digits of the name,
// upper-cased, or "EMP" when it has none.
func codeFromName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
		if b.Len() == 10 {
			break
		}
	}
	if b.Len() == 0 {
		return "EMP"
	}
	return b.String()
}
