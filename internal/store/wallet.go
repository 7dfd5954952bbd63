package store

import (
	"context"
	"fmt"
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
