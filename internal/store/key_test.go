package store_test

import (
	"context"
	"testing"

	"github.com/atsgate/atsgate/internal/atsgate"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		st := openStore(t, d)
		gh := mustCountry(t, st, "gh", "")
		newEmp := func(t *testing.T) *atsgate.Employer {
			e, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: gh.ID, Name: "Keys"})
			if err != nil {
				t.Fatalf("CreateEmployer: %v", err)
			}
			return e
		}
		auth := func(plain string) (*atsgate.Principal, error) {
			return st.Authenticate(ctx, atsgate.HashAPIKey(plain))
		}

		t.Run("issue and authenticate", func(t *testing.T) {
			e := newEmp(t)
			plain, key, err := st.IssueKey(ctx, e.ID, false)
			if err != nil {
				t.Fatalf("IssueKey: %v", err)
			}
			cc, _, ok := atsgate.SplitAPIKey(plain)
			if !ok || cc != "gh" {
				t.Fatalf("IssueKey key %q is not a gh key", plain)
			}
			if key.Prefix != atsgate.KeyPrefix(plain) || key.EmployerID != e.ID {
				t.Errorf("APIKey = %+v", key)
			}
			p, err := auth(plain)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.Employer.ID != e.ID || p.Country.ID != gh.ID || p.Country.Code != "gh" ||
				p.Country.PublicURL != gh.PublicURL || !p.Country.Price.Equal(gh.Price) ||
				p.KeyID != key.ID || p.KeyPrefix != key.Prefix || p.Actor() != "api:"+key.Prefix {
				t.Errorf("Principal = %+v", p)
			}
			if p.Country.Location == nil || p.Country.Location.String() != "Africa/Accra" {
				t.Errorf("Principal country location = %v", p.Country.Location)
			}
			for _, bad := range []string{"", "mjm_gh_nope", plain + "x"} {
				_, err := auth(bad)
				wantCode(t, err, atsgate.EUNAUTHORIZED)
			}
			_, err = st.Authenticate(ctx, plain) // the plain key is not its hash
			wantCode(t, err, atsgate.EUNAUTHORIZED)
		})

		t.Run("issue again revokes", func(t *testing.T) {
			e := newEmp(t)
			old, _, err := st.IssueKey(ctx, e.ID, false)
			if err != nil {
				t.Fatalf("IssueKey: %v", err)
			}
			fresh, _, err := st.IssueKey(ctx, e.ID, false)
			if err != nil {
				t.Fatalf("IssueKey again: %v", err)
			}
			_, err = auth(old)
			wantCode(t, err, atsgate.EUNAUTHORIZED)
			if _, err := auth(fresh); err != nil {
				t.Errorf("Authenticate(new key): %v", err)
			}
			keys, err := st.Keys(ctx, e.ID)
			if err != nil {
				t.Fatalf("Keys: %v", err)
			}
			if len(keys) != 2 || !keys[0].RevokedAt.IsZero() || keys[1].RevokedAt.IsZero() {
				t.Errorf("Keys = %+v, want the new active key then the revoked one", keys)
			}
		})

		t.Run("rotate", func(t *testing.T) {
			e := newEmp(t)
			_, _, err := st.IssueKey(ctx, e.ID, true)
			wantCode(t, err, atsgate.ENOTFOUND)
			if keys, _ := st.Keys(ctx, e.ID); len(keys) != 0 {
				t.Errorf("a refused rotate left keys behind: %+v", keys)
			}
			old, _, err := st.IssueKey(ctx, e.ID, false)
			if err != nil {
				t.Fatalf("IssueKey: %v", err)
			}
			rotated, _, err := st.IssueKey(ctx, e.ID, true)
			if err != nil {
				t.Fatalf("rotate: %v", err)
			}
			_, err = auth(old)
			wantCode(t, err, atsgate.EUNAUTHORIZED)
			if _, err := auth(rotated); err != nil {
				t.Errorf("Authenticate(rotated): %v", err)
			}
		})

		t.Run("disable", func(t *testing.T) {
			e := newEmp(t)
			wantCode(t, st.DisableKey(ctx, e.ID), atsgate.ENOTFOUND)
			plain, _, err := st.IssueKey(ctx, e.ID, false)
			if err != nil {
				t.Fatalf("IssueKey: %v", err)
			}
			if err := st.DisableKey(ctx, e.ID); err != nil {
				t.Fatalf("DisableKey: %v", err)
			}
			_, err = auth(plain)
			wantCode(t, err, atsgate.EUNAUTHORIZED)
			wantCode(t, st.DisableKey(ctx, e.ID), atsgate.ENOTFOUND)
			_, _, err = st.IssueKey(ctx, e.ID, true)
			wantCode(t, err, atsgate.ENOTFOUND)
		})

		t.Run("inactive employer", func(t *testing.T) {
			e := newEmp(t)
			plain, _, err := st.IssueKey(ctx, e.ID, false)
			if err != nil {
				t.Fatalf("IssueKey: %v", err)
			}
			exec(t, st, `UPDATE employers SET active = $1 WHERE id = $2`, false, e.ID)
			_, err = auth(plain)
			wantCode(t, err, atsgate.EUNAUTHORIZED)
		})

		t.Run("unknown employer", func(t *testing.T) {
			_, _, err := st.IssueKey(ctx, 999999, false)
			wantCode(t, err, atsgate.ENOTFOUND)
		})
	})
}
