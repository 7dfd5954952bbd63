package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// LedgerEntry is one line of an employer's wallet. Time is local to the
// employer's country, as on the statement it belongs to; RunningBalance is
// the wallet's balance after the entry, as the entry recorded it.
type LedgerEntry struct {
	ID             int64  `json:"id"`
	Time           string `json:"time"`
	Kind           string `json:"kind"`
	Amount         string `json:"amount"` // signed: credits positive
	RunningBalance string `json:"running_balance"`
	Currency       string `json:"currency"`
	JobID          int64  `json:"job_id,omitempty"` // charges and refunds
	Period         string `json:"period,omitempty"` // minimum_spend: "2006-01"
	Actor          string `json:"actor"`
	Note           string `json:"note"`
	// Reference is the idempotency reference a top-up or adjustment was
	// posted with (CLI --reference, the API's Idempotency-Key, a
	// back-office form's own); left out when it had none.
	Reference string `json:"reference,omitempty"`
}

// NewLedgerEntry is le, of an employer of country c, on the wire.
func NewLedgerEntry(le *atsgate.LedgerEntry, c *atsgate.Country) LedgerEntry {
	return LedgerEntry{ID: le.ID, Time: local(c, le.CreatedAt), Kind: string(le.Kind), Amount: amount(le.Amount),
		RunningBalance: amount(le.BalanceAfter), Currency: c.Currency, JobID: le.JobID, Period: le.Period,
		Actor: le.Actor, Note: le.Note, Reference: le.Reference}
}

// EntryResponse is the admin API's answer to a top-up or an adjustment:
// the entry it posted.
type EntryResponse struct {
	Entry LedgerEntry `json:"entry"`
}

// Statement is an employer's wallet over a period: the opening balance,
// the entries, the closing balance and a total per entry kind. The admin
// API sends the entries a page at a time (NextAfter continues); the CLI
// prints them all.
type Statement struct {
	EmployerID   int64  `json:"employer_id"`
	EmployerName string `json:"employer_name"`
	Currency     string `json:"currency"`
	TimeZone     string `json:"time_zone"`
	// From and To are the period's days ("2006-01-02") as asked, in the
	// country's time zone, To excluded; "" is an open end.
	From           string `json:"from"`
	To             string `json:"to"`
	OpeningBalance string `json:"opening_balance"`
	ClosingBalance string `json:"closing_balance"`
	// Balance is the wallet's balance now, whatever the period.
	Balance string `json:"balance"`
	// Totals has every entry kind, zero or not, so a reader can rely on
	// the keys: opening + all totals = closing.
	Totals map[string]string `json:"totals"`
	// EntryCount is the number of entries in the period, on every page.
	EntryCount int64         `json:"entry_count"`
	Entries    []LedgerEntry `json:"entries"`
	// NextAfter, when present, is the ?after= of the next page of entries.
	NextAfter int64 `json:"next_after,omitempty"`
}

// NewStatement is st, of employer e in country c, on the wire, with
// entries (all of the period's, or a page of them); from and to are the
// period's days as the caller was given them.
func NewStatement(st *atsgate.Statement, entries []atsgate.LedgerEntry, e *atsgate.Employer, c *atsgate.Country, from, to string) Statement {
	out := Statement{EmployerID: e.ID, EmployerName: e.Name, Currency: st.Currency, TimeZone: c.TimeZone,
		From: from, To: to, OpeningBalance: amount(st.OpeningBalance), ClosingBalance: amount(st.ClosingBalance),
		Balance: amount(st.Balance), Totals: make(map[string]string, len(atsgate.EntryKinds)),
		EntryCount: st.Count, Entries: make([]LedgerEntry, len(entries))}
	if out.Currency == "" {
		out.Currency = c.Currency
	}
	for _, k := range atsgate.EntryKinds {
		out.Totals[string(k)] = amount(st.Totals[k])
	}
	for i := range entries {
		out.Entries[i] = NewLedgerEntry(&entries[i], c)
	}
	return out
}

// WriteStatement writes s as JSON to w with the entries each yields, in
// place of s.Entries, one line each as they come: a statement of any
// length is written in constant memory. It ignores s.NextAfter: the
// statement written is whole.
func WriteStatement(w io.Writer, s Statement, each func(yield func(LedgerEntry) error) error) error {
	s.Entries, s.NextAfter = []LedgerEntry{}, 0
	head, err := json.Marshal(s)
	if err != nil {
		return err
	}
	// Entries is the last field written, so the object ends `[]}`.
	head, ok := bytes.CutSuffix(head, []byte("[]}"))
	if !ok {
		return fmt.Errorf("statement JSON does not end with its entries: %s", head)
	}
	bw := bufio.NewWriter(w)
	bw.Write(head)
	bw.WriteString("[")
	sep := "\n"
	err = each(func(e LedgerEntry) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		bw.WriteString(sep)
		sep = ",\n"
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// Reconciliation is a month's minimum-spend table: one line per employer
// with a commitment. At is when it was run or read.
type Reconciliation struct {
	Month string               `json:"month"` // "2006-01"
	At    string               `json:"at"`
	Lines []ReconciliationLine `json:"lines"`
}

// ReconciliationLine is one employer's month. From and To bound the month
// in the employer's country time zone, To excluded.
type ReconciliationLine struct {
	EmployerID   int64  `json:"employer_id"`
	EmployerName string `json:"employer_name"`
	EmployerCode string `json:"employer_code"`
	Country      string `json:"country"` // the country's code
	Currency     string `json:"currency"`
	From         string `json:"from"`
	To           string `json:"to"`
	Minimum      string `json:"minimum"`
	Spend        string `json:"spend"`
	Shortfall    string `json:"shortfall"`
	Status       string `json:"status"`
	EntryID      int64  `json:"entry_id,omitempty"` // the month's minimum_spend entry
	Debited      string `json:"debited"`
	// Changed is true on the lines this run debited now; false in a
	// report and on lines an earlier run had debited. Status alone uses
	// the one vocabulary of atsgate.ReconcileStatus.
	Changed bool `json:"changed"`
	// Error says why a line's status is "failed"; left out otherwise.
	Error string `json:"error,omitempty"`
}

// NewReconciliation is r on the wire.
func NewReconciliation(r *atsgate.Reconciliation) Reconciliation {
	out := Reconciliation{Month: r.Month, At: instant(r.At), Lines: make([]ReconciliationLine, len(r.Lines))}
	for i, l := range r.Lines {
		// The store gives From and To in the country's zone already.
		out.Lines[i] = ReconciliationLine{EmployerID: l.EmployerID, EmployerName: l.EmployerName,
			EmployerCode: l.EmployerCode, Country: l.CountryCode, Currency: l.Currency,
			From: l.From.Format(atsgate.DateTimeLayout), To: l.To.Format(atsgate.DateTimeLayout),
			Minimum: amount(l.Minimum), Spend: amount(l.Spend), Shortfall: amount(l.Shortfall),
			Status: string(l.Status), EntryID: l.EntryID, Debited: amount(l.Debited), Changed: l.Changed, Error: Failure(l.Err)}
	}
	return out
}

// Failure is what a person is told of an error: a domain error as it
// reads, fields included, and for any other only that it was internal,
// since its cause (a driver's message, a query) is for the server's log.
func Failure(err error) string {
	var e *atsgate.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e) && e.Code != atsgate.EINTERNAL:
		return e.Error()
	default:
		return "internal error (its cause is logged)"
	}
}

// LedgerCheck is the outcome of verifying the ledger's invariants.
type LedgerCheck struct {
	OK       bool     `json:"ok"`
	Breaches []Breach `json:"breaches"`
}

// Breach is one broken ledger invariant.
type Breach struct {
	Rule       string `json:"rule"`
	EmployerID int64  `json:"employer_id"`
	EntryID    int64  `json:"entry_id,omitempty"`
	JobID      int64  `json:"job_id,omitempty"`
	Message    string `json:"message"`
}

// NewLedgerCheck is the outcome of a verification that found breaches
// (none: OK).
func NewLedgerCheck(breaches []atsgate.Breach) LedgerCheck {
	out := LedgerCheck{OK: len(breaches) == 0, Breaches: make([]Breach, len(breaches))}
	for i, b := range breaches {
		out.Breaches[i] = Breach(b)
	}
	return out
}
