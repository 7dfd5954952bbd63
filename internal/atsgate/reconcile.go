package atsgate

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// ReconcileStatus says what the monthly minimum-spend reconciliation did,
// or would do, for one employer and month.
type ReconcileStatus string

// Reconciliation statuses: one vocabulary for a run and for the read-only
// report, so the CLI, the admin API, the back-office page and the
// scheduler's log name a line's state the same way. A run says what it did
// itself with ReconciliationLine.Changed: a line it debited reads debited
// with Changed set; a line an earlier (or concurrent) run debited reads
// debited without it. Only a report shows ReconcilePending: a run turns
// every pending line into debited, met, skipped_inactive or failed.
const (
	// ReconcileDebited: spend fell short and the shortfall has been debited
	// as the month's one minimum_spend entry (EntryID).
	ReconcileDebited ReconcileStatus = "debited"
	// ReconcileMet: spend reached the minimum; nothing is owed.
	ReconcileMet ReconcileStatus = "met"
	// ReconcilePending: the month has ended with a shortfall that no run
	// has debited yet; the next run will.
	ReconcilePending ReconcileStatus = "pending"
	// ReconcileOpen: the month has not ended yet in the employer's country
	// time zone; Spend is the spend so far, and a run leaves it alone.
	ReconcileOpen ReconcileStatus = "open"
	// ReconcileSkippedBeforeCommitment: the month is before the employer's
	// commitment start.
	ReconcileSkippedBeforeCommitment ReconcileStatus = "skipped_before_commitment"
	// ReconcileSkippedBeforeCreation: the month ended before the employer
	// was created, whatever its commitment start says. The month it was
	// created in counts in full.
	ReconcileSkippedBeforeCreation ReconcileStatus = "skipped_before_creation"
	// ReconcileSkippedInactive: the month fell short, but the employer is
	// inactive, so nothing is debited (its keys do not work, so it cannot
	// spend). A run after it is made active again debits the month.
	ReconcileSkippedInactive ReconcileStatus = "skipped_inactive"
	// ReconcileFailed: this employer's line could not be computed or
	// debited; Err says why. Nothing was posted for it, the run went on
	// with the others, and running it again retries.
	ReconcileFailed ReconcileStatus = "failed"
)

// Reconciliation is the minimum-spend table of one month: one line per
// employer with a commitment.
type Reconciliation struct {
	Month string    // "2006-01"
	At    time.Time // when it was run or read (store clock, UTC)
	Lines []ReconciliationLine
}

// ReconciliationLine is one employer's month. Amounts are in Currency.
type ReconciliationLine struct {
	EmployerID   int64
	EmployerName string
	EmployerCode string
	CountryID    int64
	CountryCode  string
	TimeZone     string
	Currency     string
	// From and To bound the month in the country's time zone, [From, To).
	From, To time.Time
	Minimum  decimal.Decimal
	// Spend is the job charges minus the job refunds posted in the month.
	// It can be negative when refunds of earlier months' jobs outweigh
	// this month's charges.
	Spend decimal.Decimal
	// Shortfall is Minimum − Spend when positive, else zero.
	Shortfall decimal.Decimal
	Status    ReconcileStatus
	// EntryID is the month's minimum_spend entry, when there is one; Debited
	// is its amount as a positive number.
	EntryID int64
	Debited decimal.Decimal
	// Changed is set on the lines a run changed: the ones it debited now.
	// A report, and a run that found the entry already posted, leave it
	// unset.
	Changed bool
	// Err is why a ReconcileFailed line failed. Its cause is for the log;
	// show people ErrorMessage(Err).
	Err error
}

// Reconciler runs and reports the monthly minimum-spend reconciliation.
type Reconciler interface {
	// Reconcile debits, once, the shortfall of every committed employer
	// (or only employerID when not 0) for month ("2006-01") if that month
	// has ended in the employer's country. Running it again, or from many
	// instances at once, changes nothing. An employer whose line fails is
	// reported ReconcileFailed with its Err, and the run goes on with the
	// others: the error returned is for the run as a whole. EINVALID for a
	// malformed month or an employer without a commitment, ENOTFOUND for
	// an unknown employer.
	Reconcile(ctx context.Context, month string, employerID int64, actor string) (*Reconciliation, error)
	// ReconciliationReport computes the same table without changing
	// anything, for every committed employer (of countryID when not 0).
	// EINVALID for a malformed month.
	ReconciliationReport(ctx context.Context, month string, countryID int64) (*Reconciliation, error)
}

// ParseMonth checks a month such as "2026-10" and returns its bounds in
// loc: the first instant of the month and of the next one.
func ParseMonth(month string, loc *time.Location) (from, to time.Time, err error) {
	t, err := time.Parse(MonthLayout, month)
	if err != nil || len(month) != len(MonthLayout) || t.Year() < 2000 {
		return time.Time{}, time.Time{}, Invalid(map[string]string{"month": "must be a month such as 2026-10"})
	}
	if loc == nil {
		loc = time.UTC
	}
	from = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 1, 0), nil
}

// DueMonths lists the months ("2006-01") a scheduled reconciliation run at
// now asks for: the previous and the current UTC month. Reconcile skips an
// employer whose month has not ended in its country, so asking early is
// harmless, and these two months cover every time zone: a country ahead of
// UTC ends its month while UTC is still in it, one behind UTC ends it after
// UTC has moved on.
func DueMonths(now time.Time) []string {
	now = now.UTC()
	this := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return []string{this.AddDate(0, -1, 0).Format(MonthLayout), this.Format(MonthLayout)}
}

// Ledger invariants VerifyLedger checks, as Breach.Rule values.
const (
	// RuleBalanceSum: the wallet balance equals the sum of its entries.
	RuleBalanceSum = "balance_equals_sum"
	// RuleBalanceChain: each entry's balance-after is the previous entry's
	// (zero before the first) plus its amount.
	RuleBalanceChain = "balance_after_chains"
	// RuleOneCharge: a job has at most one job_charge entry.
	RuleOneCharge = "job_charged_once"
	// RuleOneRefund: a job has at most one job_refund entry.
	RuleOneRefund = "job_refunded_once"
	// RuleChargeCovered: no job_charge left the balance negative.
	RuleChargeCovered = "charge_never_overdraws"
)

// Breach is one broken ledger invariant.
type Breach struct {
	Rule       string // one of the Rule constants
	EmployerID int64
	EntryID    int64 // the offending entry, 0 for a wallet-level breach
	JobID      int64 // for the per-job rules
	Message    string
}
