package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/wire"
)

// TestCLIWalletReference: an operator who retries `wallet topup` or
// `wallet adjust` with the same --reference (the first run's reply lost,
// or a bank transfer recorded twice) posts once; the same reference for
// another amount is refused.
func TestCLIWalletReference(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			vars := map[string]string{"DATABASE_URL": dbtest.URL(t, dialect), "USER": "ops"}
			cli(t, vars, nil, "migrate")
			cli(t, vars, nil, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
				"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
			var emp wire.Employer
			cli(t, vars, &emp, "employer", "add", "--country", "gh", "--name", "Acme Ltd")
			id := jsonID(emp.ID)

			topup := []string{"wallet", "topup", "--employer", id, "--amount", "300", "--note", "bank", "--reference", "GH-2291"}
			var first, again wire.LedgerEntry
			cli(t, vars, &first, topup...)
			cli(t, vars, &again, topup...)
			if first.Reference != "GH-2291" || again != first {
				t.Fatalf("retried top-up printed %+v, first %+v; want the first entry twice", again, first)
			}
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), append([]string{"atsgate"}, topup...), envOf(vars), &stdout, &stderr); err != nil {
				t.Fatalf("third run: %v", err)
			}
			if !strings.Contains(stdout.String(), "already posted as entry") {
				t.Errorf("a retry's text output does not say nothing was posted:\n%s", stdout.String())
			}
			if msg := cliErr(t, vars, "wallet", "topup", "--employer", id, "--amount", "30", "--note", "bank", "--reference", "GH-2291"); !strings.Contains(msg, "conflict") {
				t.Errorf("same reference, another amount: %s", msg)
			}
			if msg := cliErr(t, vars, "wallet", "topup", "--employer", id, "--amount", "30", "--reference", " "); !strings.Contains(msg, "--reference") {
				t.Errorf("blank reference: %s", msg)
			}

			adjust := []string{"wallet", "adjust", "--employer", id, "--amount", "-20", "--note", "fee", "--reference", "FEE-7"}
			var a1, a2 wire.LedgerEntry
			cli(t, vars, &a1, adjust...)
			cli(t, vars, &a2, adjust...)
			if a1.ID != a2.ID || a1.Reference != "FEE-7" {
				t.Fatalf("retried adjustment: %+v then %+v", a1, a2)
			}

			var st wire.Statement
			cli(t, vars, &st, "wallet", "show", "--employer", id)
			if st.Balance != "280.00" || len(st.Entries) != 2 {
				t.Fatalf("wallet show: balance %s with %d entries; want 280.00 with 2", st.Balance, len(st.Entries))
			}
			var check wire.LedgerCheck
			cli(t, vars, &check, "ledger", "verify")
			if !check.OK {
				t.Errorf("ledger verify: %+v", check)
			}
		})
	}
}
