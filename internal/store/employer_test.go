package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
)

func TestEmployers(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		st := openStore(t, d)
		gh := mustCountry(t, st, "gh", "50")
		ke := mustCountry(t, st, "ke", "70")

		t.Run("derived codes are unique", func(t *testing.T) {
			var got []string
			for _, name := range []string{"Acme Ltd.", "acme ltd", "ACME-LTD", "Ωμέγα", "A Very Long Company Name Indeed"} {
				e, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: gh.ID, Name: name})
				if err != nil {
					t.Fatalf("CreateEmployer(%q): %v", name, err)
				}
				got = append(got, e.Code)
			}
			want := []string{"ACMELTD", "ACMELTD_2", "ACMELTD_3", "EMP", "AVERYLONGC"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
		})

		t.Run("explicit code", func(t *testing.T) {
			e, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: gh.ID, Name: "Beta", Code: "beta_1"})
			if err != nil {
				t.Fatalf("CreateEmployer: %v", err)
			}
			if e.Code != "BETA_1" {
				t.Errorf("Code = %q, want BETA_1", e.Code)
			}
			_, err = st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: ke.ID, Name: "Other", Code: "BETA_1"})
			wantCode(t, err, atsgate.ECONFLICT)
		})

		t.Run("price", func(t *testing.T) {
			tests := []struct {
				name    string
				country *atsgate.Country
				price   string
				want    string
			}{
				{"country price", gh, "", "50"},
				{"other country price", ke, "", "70"},
				{"override", gh, "12.5", "12.50"},
				{"zero override", ke, "0", "0"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: tt.country.ID, Name: tt.name, Price: tt.price})
					if err != nil {
						t.Fatalf("CreateEmployer: %v", err)
					}
					if e.Price.Valid != (tt.price != "") {
						t.Errorf("Price.Valid = %v, want %v", e.Price.Valid, tt.price != "")
					}
					got, err := st.Employer(ctx, e.ID)
					if err != nil {
						t.Fatalf("Employer: %v", err)
					}
					if p := got.JobPrice(tt.country); !p.Equal(dec(tt.want)) {
						t.Errorf("JobPrice = %s, want %s", p, tt.want)
					}
				})
			}
		})

		t.Run("minimum spend", func(t *testing.T) {
			e, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: gh.ID, Name: "Committed",
				MinMonthlySpend: "500", CommitmentStart: "2026-10", AutoPublish: true})
			if err != nil {
				t.Fatalf("CreateEmployer: %v", err)
			}
			got, err := st.Employer(ctx, e.ID)
			if err != nil {
				t.Fatalf("Employer: %v", err)
			}
			if !got.MinMonthlySpend.Valid || !got.MinMonthlySpend.Decimal.Equal(dec("500")) ||
				got.CommitmentStart != "2026-10" || !got.AutoPublish || !got.Active || got.CountryID != gh.ID {
				t.Errorf("Employer = %+v", got)
			}
		})

		t.Run("refused", func(t *testing.T) {
			tests := []struct {
				name       string
				in         atsgate.EmployerInput
				code       string
				wantFields []string
			}{
				{"no name", atsgate.EmployerInput{CountryID: gh.ID}, atsgate.EINVALID, []string{"name"}},
				{"min spend without commitment start", atsgate.EmployerInput{CountryID: gh.ID, Name: "X", MinMonthlySpend: "500"},
					atsgate.EINVALID, []string{"commitment_start"}},
				{"bad commitment start", atsgate.EmployerInput{CountryID: gh.ID, Name: "X", MinMonthlySpend: "500", CommitmentStart: "2026-13"},
					atsgate.EINVALID, []string{"commitment_start"}},
				{"commitment start without min spend", atsgate.EmployerInput{CountryID: gh.ID, Name: "X", CommitmentStart: "2026-10"},
					atsgate.EINVALID, []string{"min_monthly_spend"}},
				{"negative min spend", atsgate.EmployerInput{CountryID: gh.ID, Name: "X", MinMonthlySpend: "-1", CommitmentStart: "2026-10"},
					atsgate.EINVALID, []string{"min_monthly_spend"}},
				{"bad price", atsgate.EmployerInput{CountryID: gh.ID, Name: "X", Price: "ten"}, atsgate.EINVALID, []string{"price"}},
				{"negative price", atsgate.EmployerInput{CountryID: gh.ID, Name: "X", Price: "-1"}, atsgate.EINVALID, []string{"price"}},
				{"sub-minor price", atsgate.EmployerInput{CountryID: gh.ID, Name: "X", Price: "1.001"}, atsgate.EINVALID, []string{"price"}},
				{"bad code", atsgate.EmployerInput{CountryID: gh.ID, Name: "X", Code: "A-B"}, atsgate.EINVALID, []string{"code"}},
				{"unknown country", atsgate.EmployerInput{CountryID: 999999, Name: "X"}, atsgate.ENOTFOUND, nil},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := st.CreateEmployer(ctx, tt.in)
					wantCode(t, err, tt.code)
					want := map[string]bool{}
					for _, f := range tt.wantFields {
						want[f] = true
					}
					if diff := cmp.Diff(want, fieldsOf(err)); diff != "" {
						t.Errorf("fields (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("list and wallet", func(t *testing.T) {
			all, err := st.Employers(ctx, 0)
			if err != nil {
				t.Fatalf("Employers: %v", err)
			}
			inKE, err := st.Employers(ctx, ke.ID)
			if err != nil {
				t.Fatalf("Employers(ke): %v", err)
			}
			if len(inKE) == 0 || len(inKE) >= len(all) {
				t.Fatalf("Employers(ke) = %d, all = %d", len(inKE), len(all))
			}
			var ids []int64
			for _, e := range inKE {
				if e.CountryID != ke.ID {
					t.Errorf("Employers(ke) returned employer %d of country %d", e.ID, e.CountryID)
				}
				ids = append(ids, e.ID)
			}
			balances, err := st.Balances(ctx, ids)
			if err != nil {
				t.Fatalf("Balances: %v", err)
			}
			for _, id := range ids {
				if m := balances[id]; !m.Amount.IsZero() || m.Currency != "GHS" {
					t.Errorf("new wallet of %d = %v, want 0.00 GHS", id, m)
				}
			}
			_, err = st.Employer(ctx, 999999)
			wantCode(t, err, atsgate.ENOTFOUND)
		})
	})
}
