package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

type ledgerRow struct {
	ID                int64 `gorm:"primaryKey"`
	EmployerID        int64
	Kind              string
	AmountMinor       int64
	BalanceAfterMinor int64
	JobID             *int64
	Period            *string
	Actor             string
	Note              string
	CreatedAt         time.Time
}

func (ledgerRow) TableName() string { return "ledger_entries" }

type walletRow struct {
	EmployerID   int64 `gorm:"primaryKey"`
	Currency     string
	BalanceMinor int64 `gorm:"column:balance_minor"`
	UpdatedAt    time.Time
}

func (walletRow) TableName() string { return "wallets" }

func entryFromRow(r *ledgerRow) atsgate.LedgerEntry {
	e := atsgate.LedgerEntry{ID: r.ID, EmployerID: r.EmployerID, Kind: atsgate.EntryKind(r.Kind),
		Amount: fromMinor(r.AmountMinor), BalanceAfter: fromMinor(r.BalanceAfterMinor),
		Actor: r.Actor, Note: r.Note, CreatedAt: r.CreatedAt.UTC()}
	if r.JobID != nil {
		e.JobID = *r.JobID
	}
	if r.Period != nil {
		e.Period = *r.Period
	}
	return e
}

// TopUp implements atsgate.Wallets.
func (s *Store) TopUp(ctx context.Context, employerID int64, amount decimal.Decimal, actor, note string) (*atsgate.LedgerEntry, error) {
	if !amount.IsPositive() {
		return nil, atsgate.Invalid(map[string]string{"amount": "must be positive"})
	}
	return s.post(ctx, employerID, atsgate.EntryTopup, amount, actor, note)
}

// Adjust implements atsgate.Wallets. An adjustment may take the balance
// below zero: it is an operator's deliberate correction, not a charge.
func (s *Store) Adjust(ctx context.Context, employerID int64, amount decimal.Decimal, actor, note string) (*atsgate.LedgerEntry, error) {
	fields := map[string]string{}
	if amount.IsZero() {
		fields["amount"] = "must not be zero"
	}
	if strings.TrimSpace(note) == "" {
		fields["note"] = "is required for an adjustment"
	}
	if len(fields) > 0 {
		return nil, atsgate.Invalid(fields)
	}
	return s.post(ctx, employerID, atsgate.EntryAdjustment, amount, actor, note)
}

func (s *Store) post(ctx context.Context, employerID int64, kind atsgate.EntryKind, amount decimal.Decimal, actor, note string) (*atsgate.LedgerEntry, error) {
	// Callers may build amounts without ParseAmount; beyond the bound
	// toMinor would wrap, turning a top-up into a debit.
	if msg := atsgate.CheckAmount(amount); msg != "" {
		return nil, atsgate.Invalid(map[string]string{"amount": msg})
	}
	now := s.now().UTC()
	row := ledgerRow{EmployerID: employerID, Kind: string(kind), AmountMinor: toMinor(amount),
		Actor: actor, Note: strings.TrimSpace(note), CreatedAt: now}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		balance, at, err := s.credit(tx, employerID, row.AmountMinor, now)
		if err != nil {
			return err
		}
		row.ID = 0
		row.BalanceAfterMinor = balance
		row.CreatedAt = at
		return tx.Create(&row).Error
	})
	if err != nil {
		return nil, translate(err, fmt.Sprintf("wallet of employer %d", employerID))
	}
	e := entryFromRow(&row)
	return &e, nil
}

// Statement implements atsgate.Wallets with a few indexed reads and one
// aggregate; no entry is loaded, however long the period. Each entry
// carries the balance after it, so the opening balance is the balance
// after the last entry before from, and the closing balance the balance
// after the period's last entry.
func (s *Store) Statement(ctx context.Context, employerID int64, from, to time.Time) (*atsgate.Statement, error) {
	var w walletRow
	if err := s.db.WithContext(ctx).Take(&w, "employer_id = ?", employerID).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("wallet of employer %d", employerID))
	}
	st := &atsgate.Statement{EmployerID: employerID, Currency: w.Currency, From: from, To: to,
		Balance: fromMinor(w.BalanceMinor), Totals: map[atsgate.EntryKind]decimal.Decimal{}}
	for _, k := range atsgate.EntryKinds {
		st.Totals[k] = decimal.Zero
	}
	if !from.IsZero() {
		before, err := s.edgeEntry(ctx, employerID, time.Time{}, from, true)
		if err != nil {
			return nil, err
		}
		if before != nil {
			st.OpeningBalance = fromMinor(before.BalanceAfterMinor)
		}
	}
	st.ClosingBalance = st.OpeningBalance
	last, err := s.edgeEntry(ctx, employerID, from, to, true)
	if err != nil || last == nil {
		return st, err
	}
	first, err := s.edgeEntry(ctx, employerID, from, to, false)
	if err != nil {
		return nil, err
	}
	st.FirstID, st.LastID, st.ClosingBalance = first.ID, last.ID, fromMinor(last.BalanceAfterMinor)
	// The sums stop at the last entry read above: one posted meanwhile has
	// a larger ID (an employer's entries are numbered under its wallet's
	// lock), so the totals and the closing balance describe the same
	// entries. The sum is read as text: PostgreSQL sums BIGINTs exactly as
	// NUMERIC, which a BIGINT might not hold.
	var sums []struct {
		Kind  string
		N     int64
		Minor string
	}
	err = s.inPeriod(ctx, employerID, from, to).Model(&ledgerRow{}).Where("id <= ?", last.ID).
		Select("kind, COUNT(*) AS n, CAST(SUM(amount_minor) AS TEXT) AS minor").Group("kind").Scan(&sums).Error
	if err != nil {
		return nil, translate(err, "ledger")
	}
	for _, r := range sums {
		minor, err := decimal.NewFromString(r.Minor)
		if err != nil {
			return nil, atsgate.Internal(fmt.Errorf("ledger total %q of %s: %w", r.Minor, r.Kind, err))
		}
		st.Totals[atsgate.EntryKind(r.Kind)] = minor.Shift(-atsgate.MoneyScale)
		st.Count += r.N
	}
	return st, nil
}

// inPeriod selects the employer's entries posted in [from, to); zero
// times leave that end open.
func (s *Store) inPeriod(ctx context.Context, employerID int64, from, to time.Time) *gorm.DB {
	q := s.db.WithContext(ctx).Where("employer_id = ?", employerID)
	if !from.IsZero() {
		q = q.Where("created_at >= ?", from.UTC())
	}
	if !to.IsZero() {
		q = q.Where("created_at < ?", to.UTC())
	}
	return q
}

// edgeEntry returns the first (or, with last, the last) entry posted in
// [from, to), nil when there is none. It orders by time, then ID: an
// employer's entry times never go backwards in ID order (walletClock), so
// that is also the first or last by ID, and the time index finds it in one
// probe where a walk along the ID index would pass every entry outside the
// period.
func (s *Store) edgeEntry(ctx context.Context, employerID int64, from, to time.Time, last bool) (*ledgerRow, error) {
	order := "created_at, id"
	if last {
		order = "created_at DESC, id DESC"
	}
	var rows []ledgerRow
	if err := s.inPeriod(ctx, employerID, from, to).Order(order).Limit(1).Find(&rows).Error; err != nil {
		return nil, translate(err, "ledger")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// StatementEntries implements atsgate.Wallets with keyset pages on the
// entry ID: a page costs one index range however deep in the ledger it is.
func (s *Store) StatementEntries(ctx context.Context, employerID int64, from, to time.Time, p atsgate.EntryPage) ([]atsgate.LedgerEntry, error) {
	if p.Limit < 1 || p.Limit > atsgate.MaxEntryPage {
		return nil, atsgate.Invalid(map[string]string{"limit": fmt.Sprintf("must be between 1 and %d", atsgate.MaxEntryPage)})
	}
	first, last, err := s.periodIDs(ctx, employerID, from, to)
	if err != nil || last == 0 {
		return nil, err
	}
	upTo := last
	if p.BeforeID != 0 {
		upTo = min(upTo, p.BeforeID-1)
	}
	rows, err := s.entryRange(ctx, employerID, from, to, max(p.AfterID, first-1), upTo, p.Limit, p.Last)
	if err != nil {
		return nil, err
	}
	out := make([]atsgate.LedgerEntry, len(rows))
	for i := range rows {
		out[i] = entryFromRow(&rows[i])
	}
	return out, nil
}

// periodIDs returns the IDs of the first and last entries posted in
// [from, to), or 0, 0. Between them, by ID, are exactly the period's
// entries, so pages can be ranges of the (employer_id, id) index that
// end where the period does.
func (s *Store) periodIDs(ctx context.Context, employerID int64, from, to time.Time) (first, last int64, err error) {
	l, err := s.edgeEntry(ctx, employerID, from, to, true)
	if err != nil || l == nil {
		return 0, 0, err
	}
	if from.IsZero() {
		return 1, l.ID, nil
	}
	f, err := s.edgeEntry(ctx, employerID, from, to, false)
	if err != nil || f == nil {
		return 0, 0, err
	}
	return f.ID, l.ID, nil
}

// entryRange reads up to limit of the period's entries with IDs in
// (after, upTo], in ID order: the first ones, or with fromEnd the last
// ones (still returned in ID order).
func (s *Store) entryRange(ctx context.Context, employerID int64, from, to time.Time, after, upTo int64, limit int, fromEnd bool) ([]ledgerRow, error) {
	if upTo <= after {
		return nil, nil
	}
	order := "id"
	if fromEnd {
		order = "id DESC"
	}
	var rows []ledgerRow
	if err := s.inPeriod(ctx, employerID, from, to).Where("id > ? AND id <= ?", after, upTo).
		Order(order).Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "ledger")
	}
	if fromEnd {
		slices.Reverse(rows)
	}
	return rows, nil
}

// eachPage is how many entries EachStatementEntry reads at a time.
const eachPage = 1000

// EachStatementEntry implements atsgate.Wallets: keyset pages of eachPage
// entries, so memory stays flat and no transaction is held while fn works
// (fn may be writing to a slow client).
func (s *Store) EachStatementEntry(ctx context.Context, employerID int64, from, to time.Time, lastID int64, fn func(*atsgate.LedgerEntry) error) error {
	first, last, err := s.periodIDs(ctx, employerID, from, to)
	if err != nil || last == 0 {
		return err
	}
	if lastID != 0 {
		last = min(last, lastID)
	}
	after := first - 1
	for {
		rows, err := s.entryRange(ctx, employerID, from, to, after, last, eachPage, false)
		if err != nil {
			return err
		}
		for i := range rows {
			e := entryFromRow(&rows[i])
			if err := fn(&e); err != nil {
				return err
			}
		}
		if len(rows) < eachPage {
			return nil
		}
		after = rows[len(rows)-1].ID
	}
}

// Balances returns the wallet balance of each employer, by employer ID.
func (s *Store) Balances(ctx context.Context, employerIDs []int64) (map[int64]atsgate.Money, error) {
	var rows []walletRow
	if err := s.db.WithContext(ctx).Where("employer_id IN ?", employerIDs).Find(&rows).Error; err != nil {
		return nil, translate(err, "wallets")
	}
	out := make(map[int64]atsgate.Money, len(rows))
	for _, r := range rows {
		out[r.EmployerID] = atsgate.Money{Amount: fromMinor(r.BalanceMinor), Currency: r.Currency}
	}
	return out, nil
}
