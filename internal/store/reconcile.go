package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// Now is the store's clock, the one Reconcile and ExpireJobs judge time by.
func (s *Store) Now() time.Time { return s.now() }

// commitmentRow is an employer with a minimum monthly spend, with what a
// reconciliation line needs from its country and wallet.
type commitmentRow struct {
	ID                   int64
	Name                 string
	Code                 string
	CountryID            int64
	MinMonthlySpendMinor int64
	CommitmentStart      string
	CountryCode          string
	TimeZone             string
	Currency             string
	Active               bool
	CreatedAt            time.Time
}

// commitments lists the employers with a commitment, all of them or one
// (employerID) or those of one country (countryID), by ID.
func (s *Store) commitments(ctx context.Context, employerID, countryID int64) ([]commitmentRow, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := `SELECT e.id, e.name, e.code, e.country_id, e.min_monthly_spend_minor,
       COALESCE(e.commitment_start, '') AS commitment_start, e.active, e.created_at,
       c.code AS country_code, c.time_zone, w.currency
FROM employers e
JOIN countries c ON c.id = e.country_id
JOIN wallets w ON w.employer_id = e.id
WHERE e.min_monthly_spend_minor IS NOT NULL`
	var args []any
	if employerID != 0 {
		q += ` AND e.id = ?`
		args = append(args, employerID)
	}
	if countryID != 0 {
		q += ` AND e.country_id = ?`
		args = append(args, countryID)
	}
	var rows []commitmentRow
	if err := s.rdb.WithContext(ctx).Raw(q+` ORDER BY e.id`, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "commitments")
	}
	return rows, nil
}

// reconcileLines builds the month's table as it stands, without changing
// anything: each line has a report status (debited, met, pending, open or
// skipped_before_commitment). Reconcile acts on the pending ones.
func (s *Store) reconcileLines(ctx context.Context, month string, employerID, countryID int64, now time.Time) ([]atsgate.ReconciliationLine, error) {
	if _, _, err := atsgate.ParseMonth(month, nil); err != nil {
		return nil, err
	}
	rows, err := s.commitments(ctx, employerID, countryID)
	if err != nil {
		return nil, err
	}
	if employerID != 0 && len(rows) == 0 {
		if _, err := s.Employer(ctx, employerID); err != nil {
			return nil, err
		}
		return nil, atsgate.Invalid(map[string]string{"employer": "has no minimum monthly spend commitment"})
	}
	posted, err := s.minimumEntries(ctx, month, employerID, countryID)
	if err != nil {
		return nil, err
	}
	lines := make([]atsgate.ReconciliationLine, 0, len(rows))
	for _, r := range rows {
		loc := s.location(r.TimeZone)
		from, to, _ := atsgate.ParseMonth(month, loc)
		l := atsgate.ReconciliationLine{
			EmployerID: r.ID, EmployerName: r.Name, EmployerCode: r.Code,
			CountryID: r.CountryID, CountryCode: r.CountryCode, TimeZone: r.TimeZone, Currency: r.Currency,
			From: from, To: to, Minimum: fromMinor(r.MinMonthlySpendMinor),
			Spend: decimal.Zero, Shortfall: decimal.Zero, Debited: decimal.Zero,
		}
		if r.CommitmentStart != "" && month < r.CommitmentStart {
			l.Status = atsgate.ReconcileSkippedBeforeCommitment
			lines = append(lines, l)
			continue
		}
		// A commitment may start before the employer was created (a start
		// typed as the current month, or an earlier one): the months that
		// ended before it existed owe nothing.
		if !to.After(r.CreatedAt) {
			l.Status = atsgate.ReconcileSkippedBeforeCreation
			lines = append(lines, l)
			continue
		}
		var spend int64
		if err := s.bounded(ctx, func(ctx context.Context) (err error) {
			spend, err = monthSpend(s.rdb.WithContext(ctx), r.ID, from, to)
			return err
		}); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			l.Status, l.Err = atsgate.ReconcileFailed, fmt.Errorf("month spend of employer %d: %w", r.ID, err)
			lines = append(lines, l)
			continue
		}
		l.Spend = fromMinor(spend)
		if short := r.MinMonthlySpendMinor - spend; short > 0 {
			l.Shortfall = fromMinor(short)
		}
		switch e, ok := posted[r.ID]; {
		case ok:
			l.Status, l.EntryID, l.Debited = atsgate.ReconcileDebited, e.ID, fromMinor(-e.AmountMinor)
		case now.Before(to):
			l.Status = atsgate.ReconcileOpen
		case l.Shortfall.IsPositive() && !r.Active:
			l.Status = atsgate.ReconcileSkippedInactive
		case l.Shortfall.IsPositive():
			l.Status = atsgate.ReconcilePending
		default:
			l.Status = atsgate.ReconcileMet
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// minimumEntries returns the month's minimum_spend entries by employer.
func (s *Store) minimumEntries(ctx context.Context, month string, employerID, countryID int64) (map[int64]ledgerRow, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := s.rdb.WithContext(ctx).Where("kind = ? AND period = ?", string(atsgate.EntryMinimumSpend), month)
	if employerID != 0 {
		q = q.Where("employer_id = ?", employerID)
	}
	if countryID != 0 {
		q = q.Where("employer_id IN (?)", s.rdb.WithContext(ctx).Model(&employerRow{}).Select("id").Where("country_id = ?", countryID))
	}
	var rows []ledgerRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err, "minimum spend entries")
	}
	out := make(map[int64]ledgerRow, len(rows))
	for _, r := range rows {
		out[r.EmployerID] = r
	}
	return out, nil
}

// monthSpend is the employer's job charges minus job refunds posted in
// [from, to), in minor units, as a positive number for net spending.
func monthSpend(db *gorm.DB, employerID int64, from, to time.Time) (int64, error) {
	var sum int64
	err := db.Raw(`SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries
WHERE employer_id = ? AND kind IN (?, ?) AND created_at >= ? AND created_at < ?`,
		employerID, string(atsgate.EntryJobCharge), string(atsgate.EntryJobRefund), from.UTC(), to.UTC()).Scan(&sum).Error
	if err != nil {
		return 0, translate(err, "month spend")
	}
	return -sum, nil
}

// Reconcile implements atsgate.Reconciler. For each committed employer
// whose month has ended in its country's time zone and whose spend fell
// short, it debits the shortfall as one minimum_spend entry for the period,
// in one transaction with the wallet update; the balance may go negative.
//
// The partial unique index ledger_one_minimum (employer_id, period) makes
// the entry happen once: a run that loses the race inserts nothing, rolls
// back its wallet update, and reports the employer already reconciled. So
// any number of runs, from any number of instances, post one entry.
func (s *Store) Reconcile(ctx context.Context, month string, employerID int64, actor string) (*atsgate.Reconciliation, error) {
	now := s.now().UTC()
	lines, err := s.reconcileLines(ctx, month, employerID, 0, now)
	if err != nil {
		return nil, err
	}
	for i := range lines {
		l := &lines[i]
		switch l.Status {
		case atsgate.ReconcileDebited:
			l.Status = atsgate.ReconcileAlreadyReconciled
		case atsgate.ReconcileOpen:
			l.Status = atsgate.ReconcileSkippedUnfinished
		case atsgate.ReconcilePending:
			// One employer's failure is its own line's: the others are
			// still owed their run. Only the end of the run itself (its
			// context) stops it.
			if err := s.reconcileLine(ctx, l, month, actor, now); err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("reconcile %s: %w", month, ctx.Err())
				}
				l.Status, l.Err = atsgate.ReconcileFailed, fmt.Errorf("reconcile %s for employer %d: %w", month, l.EmployerID, err)
			}
		}
	}
	return &atsgate.Reconciliation{Month: month, At: now, Lines: lines}, nil
}

// reconcileLine debits a pending line's shortfall and sets its outcome.
func (s *Store) reconcileLine(ctx context.Context, l *atsgate.ReconciliationLine, month, actor string, now time.Time) error {
	id, err := s.debitMinimum(ctx, l, month, actor, now)
	switch {
	case errors.Is(err, errMinimumMet):
		l.Status = atsgate.ReconcileMet
	case errors.Is(err, errInactive):
		l.Status = atsgate.ReconcileSkippedInactive
	case errors.Is(err, errAlreadyReconciled):
		posted, err := s.minimumEntries(ctx, month, l.EmployerID, 0)
		if err != nil {
			return err
		}
		e := posted[l.EmployerID]
		l.Status, l.EntryID, l.Debited = atsgate.ReconcileAlreadyReconciled, e.ID, fromMinor(-e.AmountMinor)
	case err != nil:
		return err
	default:
		l.Status, l.EntryID, l.Debited = atsgate.ReconcileDebited, id, l.Shortfall
	}
	return nil
}

// errAlreadyReconciled rolls back a debit whose entry another run posted.
var errAlreadyReconciled = errors.New("already reconciled")

// errMinimumMet ends a debit whose spend, read again under the wallet lock,
// reached the minimum after all.
var errMinimumMet = errors.New("minimum met")

// errInactive ends a debit whose employer, read again under the wallet
// lock, was made inactive since the run read it.
var errInactive = errors.New("employer inactive")

// debitMinimum posts the line's shortfall, as read again under the wallet
// lock, and returns the new entry's ID; errAlreadyReconciled when the
// month's entry exists, errMinimumMet when there is no shortfall after all.
func (s *Store) debitMinimum(ctx context.Context, l *atsgate.ReconciliationLine, month, actor string, now time.Time) (int64, error) {
	var id int64
	err := s.transact(ctx, func(tx *gorm.DB) error {
		// Lock the wallet, then read the month's spend again: a charge or
		// refund of the month still committing when the run began holds
		// this lock, so it is counted, not missed.
		if err := s.forUpdate(tx).Take(&walletRow{}, "employer_id = ?", l.EmployerID).Error; err != nil {
			return err
		}
		var active []bool
		if err := tx.Model(&employerRow{}).Where("id = ?", l.EmployerID).Pluck("active", &active).Error; err != nil {
			return err
		}
		if len(active) != 1 || !active[0] {
			return errInactive
		}
		spend, err := monthSpend(tx, l.EmployerID, l.From, l.To)
		if err != nil {
			return err
		}
		short := toMinor(l.Minimum) - spend
		l.Spend, l.Shortfall = fromMinor(spend), fromMinor(max(short, 0))
		if short <= 0 {
			return errMinimumMet
		}
		amount := -short
		note := fmt.Sprintf("minimum monthly spend %s: spent %s of %s %s", month,
			l.Spend.StringFixed(atsgate.MoneyScale), l.Minimum.StringFixed(atsgate.MoneyScale), l.Currency)
		balance, at, err := s.credit(tx, l.EmployerID, amount, now)
		if err != nil {
			return err
		}
		var ids []int64
		// The conflict target names the partial index, so a duplicate is
		// "no row inserted", not an error that would abort the transaction.
		err = tx.Raw(`INSERT INTO ledger_entries
    (employer_id, kind, amount_minor, balance_after_minor, period, actor, note, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (employer_id, period) WHERE kind = 'minimum_spend' DO NOTHING
RETURNING id`, l.EmployerID, string(atsgate.EntryMinimumSpend), amount, balance, month, actor, note, at).Scan(&ids).Error
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return errAlreadyReconciled
		}
		id = ids[0]
		return walletDebited(tx, l.EmployerID, balance-amount, balance, month, now)
	})
	if errors.Is(err, errAlreadyReconciled) || errors.Is(err, errMinimumMet) || errors.Is(err, errInactive) {
		return 0, err
	}
	if err != nil {
		return 0, translate(err, fmt.Sprintf("wallet of employer %d", l.EmployerID))
	}
	return id, nil
}

// ReconciliationReport implements atsgate.Reconciler: the month's table for
// finance, read from the ledger as it stands. Lines already debited show
// their entry; ended months with an undebited shortfall are pending (the
// next run debits them); running months are open, with the spend so far.
func (s *Store) ReconciliationReport(ctx context.Context, month string, countryID int64) (*atsgate.Reconciliation, error) {
	now := s.now().UTC()
	lines, err := s.reconcileLines(ctx, month, 0, countryID, now)
	if err != nil {
		return nil, err
	}
	return &atsgate.Reconciliation{Month: month, At: now, Lines: lines}, nil
}
