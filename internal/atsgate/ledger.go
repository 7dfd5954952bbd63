package atsgate

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	// Reference is the operator's idempotency reference of a top-up or an
	// adjustment ("" when it had none); see CheckReference.
	Reference string
	CreatedAt time.Time
}

// MaxReferenceLength bounds a top-up's or adjustment's reference, in
// characters: room for a UUID, a bank transfer number or a form's token,
// not for a document.
const MaxReferenceLength = 100

// CheckReference says what is wrong with the reference of a top-up or an
// adjustment, as a field message, or "" when it is acceptable. A reference
// makes the posting idempotent: within one employer's ledger it names at
// most one entry, so a retry of the same request (a double click, a
// browser's resend, a CLI or API retry after a lost reply) posts nothing
// new. References are trimmed of surrounding spaces (NormalReference) and
// then compared exactly. The empty reference means "none"; where one is
// required, the caller refuses it.
func CheckReference(ref string) string {
	switch {
	case !utf8.ValidString(ref):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(ref) > MaxReferenceLength:
		return fmt.Sprintf("must be at most %d characters", MaxReferenceLength)
	case strings.IndexFunc(ref, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// NormalReference is ref as it is stored and compared: without
// surrounding spaces, which a person typing it never means.
func NormalReference(ref string) string { return strings.TrimSpace(ref) }

// Repeats reports whether a top-up or adjustment of kind, amount and note
// (trimmed, as stored) that carries e's reference is a retry of the request
// that posted e, and so gets e back, rather than a different request
// reusing the reference, which is a conflict. The actor is not compared:
// two operators recording the same bank transfer under its number mean one
// credit.
func (e *LedgerEntry) Repeats(kind EntryKind, amount decimal.Decimal, note string) bool {
	return e.Kind == kind && e.Amount.Equal(amount) && e.Note == note
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

// ParseAmount reads a decimal amount written plainly, such as "500",
// "-20" or "12.50", refusing what CheckAmount refuses. Exponents ("1e3"),
// thousands separators, spaces and a leading "+" are refused too: an
// operator who typed 1e3 may have meant anything, and money is not
// guessed at.
func ParseAmount(s string) (decimal.Decimal, error) {
	if !plainDecimal(s) {
		return decimal.Zero, fmt.Errorf("%q is not a plain decimal amount (write 1000 or 12.50)", s)
	}
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

// String renders m for people: two decimals, thousands grouped with
// commas, and always the currency ("12.50 GHS", "-10,000.00 NGN"). Every
// human surface (back-office pages, CLI text) prints money this way; the
// JSON surfaces print plain decimal strings with the currency beside them.
func (m Money) String() string {
	s := m.Amount.StringFixed(MoneyScale)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String() + "." + frac + " " + m.Currency
}

// plainDecimal reports whether s is an optional "-", digits, and an
// optional "." followed by digits.
func plainDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") {
		return false
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
		}
	}
	return true
}
