package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

func TestAdminTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 6, 18, 9, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))

		plain, tok, err := st.IssueAdminToken(ctx, " alice ", atsgate.RoleFinance)
		if err != nil {
			t.Fatalf("IssueAdminToken: %v", err)
		}
		if !strings.HasPrefix(plain, "atsadm_") || len(plain) != len("atsadm_")+43 || !atsgate.ValidAdminTokenShape(plain) {
			t.Errorf("token %q is not atsadm_ + 43 base62 characters", plain)
		}
		if tok.Name != "alice" || tok.Role != atsgate.RoleFinance || !strings.HasPrefix(plain, tok.Prefix) || tok.Actor() != "admin:alice" {
			t.Errorf("token = %+v", tok)
		}
		got, err := st.AuthenticateAdmin(ctx, atsgate.HashAPIKey(plain))
		if err != nil || got.ID != tok.ID || got.Role != atsgate.RoleFinance {
			t.Fatalf("AuthenticateAdmin = %+v, %v", got, err)
		}
		if _, err := st.AuthenticateAdmin(ctx, atsgate.HashAPIKey(plain+"x")); atsgate.ErrorCode(err) != atsgate.EUNAUTHORIZED {
			t.Errorf("unknown token: %v, want unauthorized", err)
		}
		if _, _, err := st.IssueAdminToken(ctx, "x", "boss"); atsgate.ErrorCode(err) != atsgate.EINVALID {
			t.Errorf("unknown role: %v, want validation_failed", err)
		}
		_, unnamed, err := st.IssueAdminToken(ctx, "", atsgate.RoleReviewer)
		if err != nil || unnamed.Name != "reviewer" {
			t.Errorf("unnamed token = %+v, %v; want the role as name", unnamed, err)
		}

		// Sessions: found while live, gone when expired, deleted or revoked.
		cookie, sess, err := st.CreateAdminSession(ctx, tok.ID, time.Hour)
		if err != nil {
			t.Fatalf("CreateAdminSession: %v", err)
		}
		if sess.ID != atsgate.HashAPIKey(cookie) || len(sess.CSRF) != 64 || sess.CSRF == cookie {
			t.Errorf("session = %+v for cookie %q", sess, cookie)
		}
		live, err := st.AdminSession(ctx, sess.ID)
		if err != nil || live.Token.Name != "alice" || live.Token.Role != atsgate.RoleFinance || live.CSRF != sess.CSRF {
			t.Fatalf("AdminSession = %+v, %v", live, err)
		}
		clk.Add(time.Hour + time.Second)
		if _, err := st.AdminSession(ctx, sess.ID); atsgate.ErrorCode(err) != atsgate.EUNAUTHORIZED {
			t.Errorf("expired session: %v, want unauthorized", err)
		}
		cookie2, sess2, err := st.CreateAdminSession(ctx, tok.ID, time.Hour)
		if err != nil || cookie2 == cookie {
			t.Fatalf("second session: %v", err)
		}
		if err := st.DeleteAdminSession(ctx, sess2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AdminSession(ctx, sess2.ID); atsgate.ErrorCode(err) != atsgate.EUNAUTHORIZED {
			t.Errorf("deleted session: %v, want unauthorized", err)
		}
		_, sess3, err := st.CreateAdminSession(ctx, tok.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeAdminToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeAdminToken(ctx, tok.ID); atsgate.ErrorCode(err) != atsgate.ENOTFOUND {
			t.Errorf("second revoke: %v, want not_found", err)
		}
		if _, err := st.AdminSession(ctx, sess3.ID); atsgate.ErrorCode(err) != atsgate.EUNAUTHORIZED {
			t.Errorf("session of a revoked token: %v, want unauthorized", err)
		}
		if _, err := st.AuthenticateAdmin(ctx, atsgate.HashAPIKey(plain)); atsgate.ErrorCode(err) != atsgate.EUNAUTHORIZED {
			t.Errorf("revoked token: %v, want unauthorized", err)
		}
		if _, _, err := st.CreateAdminSession(ctx, tok.ID, time.Hour); atsgate.ErrorCode(err) != atsgate.EUNAUTHORIZED {
			t.Errorf("session for a revoked token: %v, want unauthorized", err)
		}
		list, err := st.AdminTokens(ctx)
		if err != nil || len(list) != 2 || list[1].RevokedAt.IsZero() {
			t.Errorf("AdminTokens = %+v, %v", list, err)
		}
	})
}

func TestEmployerPageAndCountryBalances(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		st := openStore(t, d)
		gh := mustCountry(t, st, "gh", "")
		ke := mustCountry(t, st, "ke", "")
		var ghIDs []int64
		for i := 0; i < 5; i++ {
			c := gh
			if i%2 == 1 {
				c = ke
			}
			f := newEmployer(t, st, c, fixtureOpts{balance: "10.25"})
			if c == gh {
				ghIDs = append(ghIDs, f.employer.ID)
			}
		}
		var got []int64
		for after := int64(0); ; {
			page, next, err := st.EmployerPage(ctx, gh.ID, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				got = append(got, e.ID)
			}
			if next == 0 {
				break
			}
			if next != page[len(page)-1].ID {
				t.Fatalf("next %d is not the page's last employer", next)
			}
			after = next
		}
		if len(got) != len(ghIDs) {
			t.Fatalf("paged gh employers %v, want %v", got, ghIDs)
		}
		for i := range got {
			if got[i] != ghIDs[i] {
				t.Fatalf("paged gh employers %v, want %v", got, ghIDs)
			}
		}
		sums, err := st.CountryBalances(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]string{gh.ID: "3 30.75 GHS", ke.ID: "2 20.50 GHS"}
		for _, s := range sums {
			if g := strconv.FormatInt(s.Employers, 10) + " " + s.Balance.String(); g != want[s.CountryID] {
				t.Errorf("country %d: %s, want %s", s.CountryID, g, want[s.CountryID])
			}
		}
		if len(sums) != 2 {
			t.Errorf("%d country sums, want 2", len(sums))
		}
	})
}

// TestAdminTokenNamesUnique: a token's name is its holder's actor in the
// ledger (admin:<name>), so no two active tokens share one, even when
// issued at once; a revoked token's name may be given again.
func TestAdminTokenNamesUnique(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		st := openStore(t, d)
		_, rita, err := st.IssueAdminToken(ctx, "rita", atsgate.RoleReviewer)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"rita", " rita "} {
			if _, tok, err := st.IssueAdminToken(ctx, name, atsgate.RoleOperator); atsgate.ErrorCode(err) != atsgate.ECONFLICT || tok != nil {
				t.Errorf("IssueAdminToken(%q) while rita is active = %+v, %v; want conflict", name, tok, err)
			}
		}
		// Unnamed tokens are named after their role: the second is refused.
		if _, _, err := st.IssueAdminToken(ctx, "", atsgate.RoleFinance); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.IssueAdminToken(ctx, "", atsgate.RoleFinance); atsgate.ErrorCode(err) != atsgate.ECONFLICT {
			t.Errorf("second unnamed finance token: %v, want conflict", err)
		}
		if err := st.RevokeAdminToken(ctx, rita.ID); err != nil {
			t.Fatal(err)
		}
		if _, again, err := st.IssueAdminToken(ctx, "rita", atsgate.RoleReviewer); err != nil || again.ID == rita.ID {
			t.Errorf("IssueAdminToken(rita) after revoking the first = %+v, %v; want a new token", again, err)
		}

		results := race(t, 10, func(ctx context.Context, i int) result {
			_, _, err := st.IssueAdminToken(ctx, "sam", atsgate.RoleOperator)
			return result{err: err}
		})
		var issued int
		for _, r := range results {
			switch atsgate.ErrorCode(r.err) {
			case "":
				issued++
			case atsgate.ECONFLICT:
			default:
				t.Errorf("call %d: %v", r.i, r.err)
			}
		}
		if issued != 1 {
			t.Errorf("%d of 10 concurrent tokens named sam were issued, want 1", issued)
		}
	})
}
