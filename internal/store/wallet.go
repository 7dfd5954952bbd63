package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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
	Reference         *string // an operator's idempotency reference; see post
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
	if r.Reference != nil {
		e.Reference = *r.Reference
	}
	return e
}

// TopUp implements atsgate.Wallets.
func (s *Store) TopUp(ctx context.Context, employerID int64, amount decimal.Decimal, actor, note, reference string) (*atsgate.LedgerEntry, bool, error) {
	fields := map[string]string{}
	if !amount.IsPositive() {
		fields["amount"] = "must be positive"
	}
	return s.post(ctx, employerID, atsgate.EntryTopup, amount, actor, note, reference, fields)
}

// Adjust implements atsgate.Wallets. An adjustment may take the balance
// below zero: it is an operator's deliberate correction, not a charge.
func (s *Store) Adjust(ctx context.Context, employerID int64, amount decimal.Decimal, actor, note, reference string) (*atsgate.LedgerEntry, bool, error) {
	fields := map[string]string{}
	if amount.IsZero() {
		fields["amount"] = "must not be zero"
	}
	if strings.TrimSpace(note) == "" {
		fields["note"] = "is required for an adjustment"
	}
	return s.post(ctx, employerID, atsgate.EntryAdjustment, amount, actor, note, reference, fields)
}

// errReferenceTaken rolls back a posting whose reference an entry that
// committed first already carries.
var errReferenceTaken = errors.New("reference taken")

// post credits the wallet and appends the entry in one transaction; fields
// holds what the caller already found wrong.
//
// A reference is carried by the unique index ledger_one_reference, not by
// a lookup first: of concurrent posts with one reference, the first to
// insert wins and every other finds its row at the conflict (the wallet's
// row lock has them queue behind it, so it has committed by then), rolls
// its credit back and answers with the winner's entry, or ECONFLICT when
// it asked for something else.
func (s *Store) post(ctx context.Context, employerID int64, kind atsgate.EntryKind, amount decimal.Decimal, actor, note, reference string, fields map[string]string) (*atsgate.LedgerEntry, bool, error) {
	// Callers may build amounts without ParseAmount; beyond the bound
	// toMinor would wrap, turning a top-up into a debit.
	if _, ok := fields["amount"]; !ok {
		if msg := atsgate.CheckAmount(amount); msg != "" {
			fields["amount"] = msg
		}
	}
	reference = atsgate.NormalReference(reference)
	if msg := atsgate.CheckReference(reference); msg != "" {
		fields["reference"] = msg
	}
	if len(fields) > 0 {
		return nil, false, atsgate.Invalid(fields)
	}
	note = strings.TrimSpace(note)
	now := s.now().UTC()
	row := ledgerRow{EmployerID: employerID, Kind: string(kind), AmountMinor: toMinor(amount),
		Actor: actor, Note: note, CreatedAt: now}
	if reference != "" {
		row.Reference = &reference
	}
	var first ledgerRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		balance, at, err := s.credit(tx, employerID, row.AmountMinor, now)
		if err != nil {
			return err
		}
		row.ID = 0
		row.BalanceAfterMinor = balance
		row.CreatedAt = at
		ins := tx
		if row.Reference != nil {
			ins = tx.Clauses(clause.OnConflict{
				Columns:     []clause.Column{{Name: "employer_id"}, {Name: "reference"}},
				TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "reference IS NOT NULL"}}},
				DoNothing:   true,
			})
		}
		res := ins.Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			first = ledgerRow{}
			if err := tx.Where("employer_id = ? AND reference = ?", employerID, reference).Take(&first).Error; err != nil {
				return err
			}
			return errReferenceTaken // and the credit with it
		}
		if row.AmountMinor < 0 {
			return walletDebited(tx, employerID, balance-row.AmountMinor, balance, "", now)
		}
		return nil
	})
	if errors.Is(err, errReferenceTaken) {
		e := entryFromRow(&first)
		if !e.Repeats(kind, amount, note) {
			return nil, false, atsgate.Errorf(atsgate.ECONFLICT,
				"reference %q already posted entry %d (%s of %s, note %q) to employer %d; a different request needs its own reference",
				reference, e.ID, e.Kind, e.Amount.StringFixed(atsgate.MoneyScale), e.Note, employerID)
		}
		return &e, false, nil
	}
	if err != nil {
		return nil, false, translate(err, fmt.Sprintf("wallet of employer %d", employerID))
	}
	e := entryFromRow(&row)
	return &e, true, nil
}

// Statement implements atsgate.Wallets with a few indexed reads and one
// aggregate; no entry is loaded, however long the period. Each entry
// carries the balance after it, so the opening balance is the balance
// after the last entry before from, and the closing balance the balance
// after the period's last entry.
func (s *Store) Statement(ctx context.Context, employerID int64, from, to time.Time) (*atsgate.Statement, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var w walletRow
	if err := s.rdb.WithContext(ctx).Take(&w, "employer_id = ?", employerID).Error; err != nil {
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
	q := s.rdb.WithContext(ctx).Where("employer_id = ?", employerID)
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
	ctx, cancel := s.bound(ctx)
	defer cancel()
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
	// The walk as a whole may take as long as the client reads; each
	// query in it is bounded like any other.
	var first, last int64
	err := s.bounded(ctx, func(ctx context.Context) (err error) {
		first, last, err = s.periodIDs(ctx, employerID, from, to)
		return err
	})
	if err != nil || last == 0 {
		return err
	}
	if lastID != 0 {
		last = min(last, lastID)
	}
	after := first - 1
	for {
		var rows []ledgerRow
		err := s.bounded(ctx, func(ctx context.Context) (err error) {
			rows, err = s.entryRange(ctx, employerID, from, to, after, last, eachPage, false)
			return err
		})
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
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []walletRow
	if err := s.rdb.WithContext(ctx).Where("employer_id IN ?", employerIDs).Find(&rows).Error; err != nil {
		return nil, translate(err, "wallets")
	}
	out := make(map[int64]atsgate.Money, len(rows))
	for _, r := range rows {
		out[r.EmployerID] = atsgate.Money{Amount: fromMinor(r.BalanceMinor), Currency: r.Currency}
	}
	return out, nil
}
