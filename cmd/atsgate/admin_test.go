package main

import (
	"context"
	"strings"
	"testing"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/wire"
)

// TestCLIAdminTokens issues, lists and revokes back-office tokens, and
// checks a printed token authenticates with its role until revoked.
func TestCLIAdminTokens(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			url := dbtest.URL(t, dialect)
			vars := map[string]string{"DATABASE_URL": url}
			cli(t, vars, nil, "migrate")

			var fin, op wire.IssuedAdminToken
			cli(t, vars, &fin, "admin", "token", "issue", "--role", "finance", "--name", "fatima")
			cli(t, vars, &op, "admin", "token", "issue", "--role", "operator")
			if fin.Role != "finance" || fin.Name != "fatima" || !strings.HasPrefix(fin.Token, fin.Prefix) || !atsgate.ValidAdminTokenShape(fin.Token) {
				t.Fatalf("issued %+v", fin)
			}
			if op.Name != "operator" || op.Token == fin.Token {
				t.Fatalf("issued %+v", op)
			}
			for _, bad := range [][]string{
				{"admin", "token", "issue"},
				{"admin", "token", "issue", "--role", "admin"},
				{"admin", "token", "revoke"},
				{"admin", "token", "revoke", "--id", "x"},
			} {
				cliErr(t, vars, bad...)
			}

			ctx := context.Background()
			st, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			tok, err := st.AuthenticateAdmin(ctx, atsgate.HashAPIKey(fin.Token))
			if err != nil || tok.Role != atsgate.RoleFinance || tok.Actor() != "admin:fatima" {
				t.Fatalf("the printed token does not authenticate as finance: %+v, %v", tok, err)
			}

			cli(t, vars, nil, "admin", "token", "revoke", "--id", jsonID(fin.ID))
			if msg := cliErr(t, vars, "admin", "token", "revoke", "--id", jsonID(fin.ID)); !strings.Contains(msg, "not_found") {
				t.Errorf("second revoke: %s", msg)
			}
			if _, err := st.AuthenticateAdmin(ctx, atsgate.HashAPIKey(fin.Token)); atsgate.ErrorCode(err) != atsgate.EUNAUTHORIZED {
				t.Errorf("revoked token still authenticates: %v", err)
			}
			var list []wire.AdminToken
			cli(t, vars, &list, "admin", "token", "list")
			if len(list) != 2 || list[0].ID != op.ID || list[0].RevokedAt != "" || list[1].RevokedAt == "" {
				t.Errorf("list = %+v", list)
			}
		})
	}
}

// TestCLIAdminTokenNames: `admin token issue` refuses a name an active
// token already has, the ledger's actor being admin:<name>, and gives it
// again once that token is revoked.
func TestCLIAdminTokenNames(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			vars := map[string]string{"DATABASE_URL": dbtest.URL(t, dialect)}
			cli(t, vars, nil, "migrate")
			var rita wire.IssuedAdminToken
			cli(t, vars, &rita, "admin", "token", "issue", "--role", "reviewer", "--name", "rita")
			msg := cliErr(t, vars, "admin", "token", "issue", "--role", "operator", "--name", "rita")
			if !strings.Contains(msg, "conflict") || !strings.Contains(msg, `"rita"`) {
				t.Errorf("second rita: %s", msg)
			}
			cli(t, vars, nil, "admin", "token", "revoke", "--id", jsonID(rita.ID))
			var again wire.IssuedAdminToken
			cli(t, vars, &again, "admin", "token", "issue", "--role", "reviewer", "--name", "rita")
			if again.ID == rita.ID || again.Name != "rita" {
				t.Errorf("rita after revoking the first: %+v", again)
			}
		})
	}
}
