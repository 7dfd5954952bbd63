package store

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// VerifyLedger checks the wallet invariants of one employer (or of all when
// employerID is 0) and returns every breach found; none means the ledger is
// sound. The rules are those of the atsgate.Rule constants: the balance is
// the sum of the entries, each balance-after chains from the previous entry
// (starting at zero, in ID order), no job is charged or refunded twice, and
// no charge left the balance negative. ENOTFOUND for an unknown employer.
//
// It reads one consistent snapshot, and blocks no writer while it does: a
// read-only repeatable-read transaction on PostgreSQL; on SQLite a
// deferred read transaction on a reader connection, which in WAL mode
// sees the database as of its first read and takes no lock that a writer
// waits for. So it can run beside live traffic, in the server or from the
// CLI, without reporting half-written moves as breaches and without
// delaying a create. Entries are streamed, so a large ledger is checked in
// constant memory per employer. It is not bounded by the store's timeout,
// nor by PostgreSQL's statement timeout: a large ledger takes what it takes.
func (s *Store) VerifyLedger(ctx context.Context, employerID int64) ([]atsgate.Breach, error) {
	breaches := []atsgate.Breach{}
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	err := s.rdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == Postgres {
			if err := tx.Exec(`SET LOCAL statement_timeout = 0`).Error; err != nil {
				return err
			}
		}
		var wallets []walletRow
		q := tx.Select("employer_id", "balance_minor").Order("employer_id")
		if employerID != 0 {
			q = q.Where("employer_id = ?", employerID)
		}
		if err := q.Find(&wallets).Error; err != nil {
			return err
		}
		if employerID != 0 && len(wallets) == 0 {
			return atsgate.Errorf(atsgate.ENOTFOUND, "employer %d has no wallet", employerID)
		}
		balance := make(map[int64]int64, len(wallets))
		for _, w := range wallets {
			balance[w.EmployerID] = w.BalanceMinor
		}

		// Walk every entry in (employer, id) order: the chain and the sum.
		eq := tx.Model(&ledgerRow{}).Select("id", "employer_id", "kind", "amount_minor", "balance_after_minor", "job_id").
			Order("employer_id, id")
		if employerID != 0 {
			eq = eq.Where("employer_id = ?", employerID)
		}
		rows, err := eq.Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		seen := map[int64]bool{}
		var cur, running int64
		finish := func(emp int64) {
			seen[emp] = true
			if w, ok := balance[emp]; ok && w != running {
				breaches = append(breaches, atsgate.Breach{Rule: atsgate.RuleBalanceSum, EmployerID: emp,
					Message: fmt.Sprintf("employer %d: wallet balance %s, entries sum to %s", emp, fromMinor(w).StringFixed(2), fromMinor(running).StringFixed(2))})
			}
		}
		first := true
		for rows.Next() {
			var r ledgerRow
			if err := tx.ScanRows(rows, &r); err != nil {
				return err
			}
			if first || r.EmployerID != cur {
				if !first {
					finish(cur)
				} else if s.onWalk != nil {
					s.onWalk(ctx)
				}
				first, cur, running = false, r.EmployerID, 0
			}
			if want := running + r.AmountMinor; r.BalanceAfterMinor != want {
				breaches = append(breaches, atsgate.Breach{Rule: atsgate.RuleBalanceChain, EmployerID: r.EmployerID, EntryID: r.ID,
					Message: fmt.Sprintf("employer %d entry %d (%s %s): balance after %s, previous %s plus amount is %s", r.EmployerID, r.ID,
						r.Kind, fromMinor(r.AmountMinor).StringFixed(2), fromMinor(r.BalanceAfterMinor).StringFixed(2),
						fromMinor(running).StringFixed(2), fromMinor(want).StringFixed(2))})
			}
			// The sum is the running total of amounts; a broken chain is
			// reported once and the sum stays the true sum.
			running += r.AmountMinor
			if r.Kind == string(atsgate.EntryJobCharge) && r.BalanceAfterMinor < 0 {
				var job int64
				if r.JobID != nil {
					job = *r.JobID
				}
				breaches = append(breaches, atsgate.Breach{Rule: atsgate.RuleChargeCovered, EmployerID: r.EmployerID, EntryID: r.ID, JobID: job,
					Message: fmt.Sprintf("employer %d entry %d: the charge for job %d left the balance at %s", r.EmployerID, r.ID, job,
						fromMinor(r.BalanceAfterMinor).StringFixed(2))})
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !first {
			finish(cur)
		}
		// A wallet with no entries must be empty.
		for _, w := range wallets {
			if !seen[w.EmployerID] && w.BalanceMinor != 0 {
				breaches = append(breaches, atsgate.Breach{Rule: atsgate.RuleBalanceSum, EmployerID: w.EmployerID,
					Message: fmt.Sprintf("employer %d: wallet balance %s with no ledger entries", w.EmployerID, fromMinor(w.BalanceMinor).StringFixed(2))})
			}
		}

		// Jobs charged or refunded more than once.
		type dup struct {
			EmployerID int64
			JobID      int64
			Kind       string
			N          int64
			FirstID    int64
		}
		dq := tx.Model(&ledgerRow{}).Select("MIN(employer_id) AS employer_id, job_id, kind, COUNT(*) AS n, MIN(id) AS first_id").
			Where("job_id IS NOT NULL AND kind IN ?", []string{string(atsgate.EntryJobCharge), string(atsgate.EntryJobRefund)}).
			Group("job_id, kind").Having("COUNT(*) > 1").Order("job_id, kind")
		if employerID != 0 {
			dq = dq.Where("employer_id = ?", employerID)
		}
		var dups []dup
		if err := dq.Scan(&dups).Error; err != nil {
			return err
		}
		for _, d := range dups {
			rule, verb := atsgate.RuleOneCharge, "charged"
			if d.Kind == string(atsgate.EntryJobRefund) {
				rule, verb = atsgate.RuleOneRefund, "refunded"
			}
			breaches = append(breaches, atsgate.Breach{Rule: rule, EmployerID: d.EmployerID, EntryID: d.FirstID, JobID: d.JobID,
				Message: fmt.Sprintf("job %d %s %d times", d.JobID, verb, d.N)})
		}
		return nil
	}, opts)
	if err != nil {
		return nil, translate(err, "ledger")
	}
	return breaches, nil
}
