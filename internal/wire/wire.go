// Package wire is the JSON shape of every object atsgate prints: the admin
// API, the CLI's --json, and later the OpenAPI document and Go client.
//
// Each object has one typed struct here and one constructor from its domain
// type, so a field is named and formatted in one place whichever surface
// prints it. The admin API wraps objects in the typed envelopes of this
// package (CountryList, EmployerDetail, EntryResponse, …); the CLI prints
// the object itself, or a JSON array of them for a list. The review queue
// (JobList) holds two lists, pending jobs and pending edits, so the CLI
// prints it whole, as the API does.
//
// The formats, everywhere:
//   - Amounts are decimal strings with two places ("50.00"), with the
//     currency in a field of its own. Never JSON numbers: a float would
//     round them.
//   - Times a person reads against a wallet or a job (ledger entries, job
//     dates, job events, a reconciliation month's bounds) are "Y-m-d H:i:s"
//     in the country's time zone, as the statements and the ATS API show
//     them. Instants of the system (key and token issue times, log entries,
//     when a reconciliation ran) are RFC 3339 in UTC, to the second.
//   - A time that has not happened (a job not yet published, a key not
//     revoked) is "".
//
// The ATS job record that integrators read (JobRecord) is here too, so the
// ATS dialect and the webhook events show one record; it keeps the ATS
// dialect's own, older field names.
//
// The package imports only the standard library, decimal and the domain
// package, so every surface can use it and it knows none of them.
package wire

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// amount renders money as the wire's decimal string.
func amount(d decimal.Decimal) string { return d.StringFixed(atsgate.MoneyScale) }

// instant renders a system time as RFC 3339 UTC to the second; the zero
// time is "".
func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// local renders a time in country c's time zone as "Y-m-d H:i:s"; the
// zero time is "".
func local(c *atsgate.Country, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return c.Local(t).Format(atsgate.DateTimeLayout)
}
