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

// Statement is an employer's wallet over a period [From, To): its
// balances and totals. It holds no entries: a period can hold a million,
// so they are read a page at a time (Wallets.StatementEntries) or streamed
// (Wallets.EachStatementEntry), never all at once.
type Statement struct {
	EmployerID     int64
	Currency       string
	From, To       time.Time // zero means unbounded
	OpeningBalance decimal.Decimal
	ClosingBalance decimal.Decimal
	Totals         map[EntryKind]decimal.Decimal
	// Count is the number of entries in the period.
	Count int64
	// FirstID and LastID are the period's first and last entries when the
	// statement was read (0 when it has none). The totals count the
	// entries up to LastID; pages bounded by it (EntryPage.BeforeID =
	// LastID+1) list the same entries, whatever is posted meanwhile.
	FirstID, LastID int64
	// Balance is the wallet's balance now, whatever the period.
	Balance decimal.Decimal
}

// EntryPage selects a page of a statement's entries, which run in the
// order they were posted (by ID): of the entries with IDs between AfterID
// and BeforeID (both excluded; 0 leaves that end open), the first Limit,
// or with Last the last Limit. The page comes in posting order either way.
type EntryPage struct {
	AfterID, BeforeID int64
	Last              bool
	Limit             int // 1–MaxEntryPage
}

// MaxEntryPage bounds a page of statement entries.
const MaxEntryPage = 1000

// MoneyScale is the number of decimal places amounts carry. Every currency
// the board serves has two; amounts with more are refused, not rounded.
const MoneyScale = 2

// MaxAmount bounds, in whole currency units, every amount either way and
// every wallet balance: 10^15. In the store's integer minor units that is
// 10^17, far inside int64, so no sum of two bounded values wraps (which
// would turn a top-up into a debit) and SQLite never silently falls back to
// a float.
const MaxAmount = 1_000_000_000_000_000

var maxAmount = decimal.NewFromInt(MaxAmount)

// hasMoneyScale reports whether d has at most MoneyScale decimal places.
func hasMoneyScale(d decimal.Decimal) bool { return d.Equal(d.Truncate(MoneyScale)) }

// withinMaxAmount reports whether |d| <= MaxAmount.
func withinMaxAmount(d decimal.Decimal) bool { return !d.Abs().GreaterThan(maxAmount) }

// ParseAmount reads a decimal amount such as "500" or "12.50", refusing
// what CheckAmount refuses.
func ParseAmount(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("%q is not a decimal amount", s)
	}
	if !hasMoneyScale(d) {
		return decimal.Zero, fmt.Errorf("%q has more than %d decimal places", s, MoneyScale)
	}
	if !withinMaxAmount(d) {
		return decimal.Zero, fmt.Errorf("%q is too large", s)
	}
	return d, nil
}

// CheckAmount says what is wrong with an amount that did not come through
// ParseAmount, as a field message, or "" when it is acceptable: at most
// MoneyScale decimal places and at most MaxAmount either way. Whatever
// reaches the ledger passes it, however it was built.
func CheckAmount(d decimal.Decimal) string {
	switch {
	case !hasMoneyScale(d):
		return "must have at most two decimals" // refused, not rounded
	case !withinMaxAmount(d):
		return "is too large"
	}
	return ""
}

// CheckPrice is CheckAmount for the price of a job, which also must not be
// negative: a job never pays the employer.
func CheckPrice(d decimal.Decimal) string {
	if d.IsNegative() {
		return "must not be negative"
	}
	return CheckAmount(d)
}

// Money is an amount in a currency, for display.
type Money struct {
	Amount   decimal.Decimal
	Currency string
}

// String renders "12.50 GHS".
func (m Money) String() string { return m.Amount.StringFixed(MoneyScale) + " " + m.Currency }
