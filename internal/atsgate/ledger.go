package atsgate

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// EntryKind classifies a ledger entry.
type EntryKind string

// Ledger entry kinds.
const (
	EntryTopup        EntryKind = "topup"
	EntryJobCharge    EntryKind = "job_charge"
	EntryJobRefund    EntryKind = "job_refund"
	EntryMinimumSpend EntryKind = "minimum_spend"
	EntryAdjustment   EntryKind = "adjustment"
)

// EntryKinds lists every kind, in the order statements show totals.
var EntryKinds = []EntryKind{EntryTopup, EntryJobCharge, EntryJobRefund, EntryMinimumSpend, EntryAdjustment}

// LedgerEntry is one append-only line of an employer's wallet.
type LedgerEntry struct {
	ID           int64
	EmployerID   int64
	Kind         EntryKind
	Amount       decimal.Decimal // signed: credits positive, debits negative
	BalanceAfter decimal.Decimal
	JobID        int64  // charges and refunds
	Period       string // minimum_spend: "2006-01"
	Actor        string
	Note         string
	CreatedAt    time.Time
}

// Statement is an employer's wallet over a period [From, To).
type Statement struct {
	EmployerID     int64
	Currency       string
	From, To       time.Time // zero means unbounded
	OpeningBalance decimal.Decimal
	Entries        []LedgerEntry
	ClosingBalance decimal.Decimal
	Totals         map[EntryKind]decimal.Decimal
	// Balance is the wallet's balance now, whatever the period.
	Balance decimal.Decimal
}

// MoneyScale is the number of decimal places amounts carry. Every currency
// the board serves has two; amounts with more are refused, not rounded.
const MoneyScale = 2

// ParseAmount reads a decimal amount such as "500" or "12.50".
func ParseAmount(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("%q is not a decimal amount", s)
	}
	if !d.Equal(d.Truncate(MoneyScale)) {
		return decimal.Zero, fmt.Errorf("%q has more than %d decimal places", s, MoneyScale)
	}
	if d.Abs().GreaterThan(decimal.New(1, 15)) {
		return decimal.Zero, fmt.Errorf("%q is too large", s)
	}
	return d, nil
}

// Money is an amount in a currency, for display.
type Money struct {
	Amount   decimal.Decimal
	Currency string
}

// String renders "12.50 GHS".
func (m Money) String() string { return m.Amount.StringFixed(MoneyScale) + " " + m.Currency }
