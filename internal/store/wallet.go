package store

import (
	"context"
	"errors"
	"fmt"
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

// Statement implements atsgate.Wallets. Each entry carries the balance after
// it, so the opening balance is the balance after the last entry before
// from, and the running balance needs no arithmetic here.
func (s *Store) Statement(ctx context.Context, employerID int64, from, to time.Time) (*atsgate.Statement, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var w walletRow
	if err := s.rdb.WithContext(ctx).Take(&w, "employer_id = ?", employerID).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("wallet of employer %d", employerID))
	}
	st := &atsgate.Statement{EmployerID: employerID, Currency: w.Currency, From: from, To: to,
		Balance: fromMinor(w.BalanceMinor), Totals: map[atsgate.EntryKind]decimal.Decimal{}}
	if !from.IsZero() {
		var before []ledgerRow
		if err := s.rdb.WithContext(ctx).Where("employer_id = ? AND created_at < ?", employerID, from.UTC()).
			Order("id DESC").Limit(1).Find(&before).Error; err != nil {
			return nil, translate(err, "ledger")
		}
		if len(before) == 1 {
			st.OpeningBalance = fromMinor(before[0].BalanceAfterMinor)
		}
	}
	q := s.rdb.WithContext(ctx).Where("employer_id = ?", employerID)
	if !from.IsZero() {
		q = q.Where("created_at >= ?", from.UTC())
	}
	if !to.IsZero() {
		q = q.Where("created_at < ?", to.UTC())
	}
	var rows []ledgerRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err, "ledger")
	}
	st.ClosingBalance = st.OpeningBalance
	for _, k := range atsgate.EntryKinds {
		st.Totals[k] = decimal.Zero
	}
	st.Entries = make([]atsgate.LedgerEntry, len(rows))
	for i := range rows {
		e := entryFromRow(&rows[i])
		st.Entries[i] = e
		st.Totals[e.Kind] = st.Totals[e.Kind].Add(e.Amount)
		st.ClosingBalance = e.BalanceAfter
	}
	return st, nil
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
