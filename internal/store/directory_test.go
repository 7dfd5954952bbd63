package store_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
)

func TestCountries(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		st := openStore(t, d)
		empty, err := st.Empty(ctx)
		if err != nil || !empty {
			t.Fatalf("Empty() = %v, %v; want true", empty, err)
		}
		gh, err := st.CreateCountry(ctx, atsgate.Country{
			Code: " GH ", Name: "Ghana", Hosts: []string{"GH.Localhost:8080", "jobs.example.com."},
			Currency: "ghs", TimeZone: "Africa/Accra", Price: dec("50.25"), PublicURL: "http://gh.localhost:8080/",
		})
		if err != nil {
			t.Fatalf("CreateCountry: %v", err)
		}
		want := atsgate.Country{ID: gh.ID, Code: "gh", Name: "Ghana", Hosts: []string{"gh.localhost", "jobs.example.com"},
			Currency: "GHS", TimeZone: "Africa/Accra", Price: dec("50.25"), PublicURL: "http://gh.localhost:8080"}
		opts := cmp.Options{cmpopts.IgnoreFields(atsgate.Country{}, "CreatedAt", "Location"),
			cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })}
		if diff := cmp.Diff(want, *gh, opts); diff != "" {
			t.Errorf("CreateCountry (-want +got):\n%s", diff)
		}
		if gh.Location == nil || gh.Location.String() != "Africa/Accra" {
			t.Errorf("Location = %v, want Africa/Accra", gh.Location)
		}
		mustCountry(t, st, "ke", "")

		t.Run("create refused", func(t *testing.T) {
			valid := func() atsgate.Country {
				return atsgate.Country{Code: "ng", Name: "Nigeria", Hosts: []string{"ng.localhost"}, Currency: "NGN",
					TimeZone: "Africa/Lagos", Price: dec("10")}
			}
			tests := []struct {
				name       string
				edit       func(c *atsgate.Country)
				code       string
				wantFields []string
			}{
				{"duplicate code", func(c *atsgate.Country) { c.Code = "gh" }, atsgate.ECONFLICT, nil},
				{"duplicate host", func(c *atsgate.Country) { c.Hosts = []string{"ng.localhost", "JOBS.example.com:443"} }, atsgate.ECONFLICT, nil},
				{"bad code", func(c *atsgate.Country) { c.Code = "ngr" }, atsgate.EINVALID, []string{"code"}},
				{"no name", func(c *atsgate.Country) { c.Name = " " }, atsgate.EINVALID, []string{"name"}},
				{"bad currency", func(c *atsgate.Country) { c.Currency = "NAIRA" }, atsgate.EINVALID, []string{"currency"}},
				{"bad time zone", func(c *atsgate.Country) { c.TimeZone = "Africa/Atlantis" }, atsgate.EINVALID, []string{"timezone"}},
				{"empty time zone", func(c *atsgate.Country) { c.TimeZone = "" }, atsgate.EINVALID, []string{"timezone"}},
				{"negative price", func(c *atsgate.Country) { c.Price = dec("-1") }, atsgate.EINVALID, []string{"price"}},
				{"sub-minor price", func(c *atsgate.Country) { c.Price = dec("10.005") }, atsgate.EINVALID, []string{"price"}},
				{"huge price", func(c *atsgate.Country) { c.Price = dec("92233720368547758.08") }, atsgate.EINVALID, []string{"price"}},
				{"no host", func(c *atsgate.Country) { c.Hosts = nil }, atsgate.EINVALID, []string{"host", "public_url"}},
				{"bad host", func(c *atsgate.Country) { c.Hosts = []string{"ng localhost"} }, atsgate.EINVALID, []string{"host", "public_url"}},
				{"bad public url", func(c *atsgate.Country) { c.PublicURL = "ftp://ng.localhost" }, atsgate.EINVALID, []string{"public_url"}},
				{"everything wrong", func(c *atsgate.Country) {
					*c = atsgate.Country{Code: "1", Currency: "x", Price: dec("-5"), Hosts: []string{"-"}, PublicURL: "nope"}
				}, atsgate.EINVALID, []string{"code", "name", "currency", "timezone", "price", "host", "public_url"}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := valid()
					tt.edit(&c)
					_, err := st.CreateCountry(ctx, c)
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
			// Nothing of a refused country is left behind.
			if _, err := st.Country(ctx, "ng"); atsgate.ErrorCode(err) != atsgate.ENOTFOUND {
				t.Errorf("Country(ng) after refusals: err = %v, want not_found", err)
			}
			if _, err := st.CountryByHost(ctx, "ng.localhost"); atsgate.ErrorCode(err) != atsgate.EUNKNOWNHOST {
				t.Errorf("CountryByHost(ng.localhost) after refusals: err = %v, want unknown_host", err)
			}
		})

		t.Run("default public url", func(t *testing.T) {
			c, err := st.CreateCountry(ctx, atsgate.Country{Code: "za", Name: "South Africa", Hosts: []string{"za.example.com"},
				Currency: "ZAR", TimeZone: "Africa/Johannesburg"})
			if err != nil {
				t.Fatalf("CreateCountry: %v", err)
			}
			if c.PublicURL != "https://za.example.com" {
				t.Errorf("PublicURL = %q, want https://za.example.com", c.PublicURL)
			}
		})

		t.Run("by host", func(t *testing.T) {
			tests := []struct {
				host, code string
			}{
				{"gh.localhost", "gh"},
				{"GH.LOCALHOST", "gh"},
				{"gh.localhost:8080", "gh"},
				{"Jobs.Example.COM:443", "gh"},
				{"jobs.example.com.", "gh"},
				{" ke.localhost ", "ke"},
			}
			for _, tt := range tests {
				t.Run(tt.host, func(t *testing.T) {
					c, err := st.CountryByHost(ctx, tt.host)
					if err != nil {
						t.Fatalf("CountryByHost(%q): %v", tt.host, err)
					}
					if c.Code != tt.code {
						t.Errorf("CountryByHost(%q).Code = %q, want %q", tt.host, c.Code, tt.code)
					}
				})
			}
			for _, host := range []string{"", "unknown.localhost", "localhost", "gh.localhost.evil.com", "xgh.localhost"} {
				t.Run("unknown "+host, func(t *testing.T) {
					_, err := st.CountryByHost(ctx, host)
					wantCode(t, err, atsgate.EUNKNOWNHOST)
				})
			}
		})

		t.Run("list and get", func(t *testing.T) {
			all, err := st.Countries(ctx)
			if err != nil {
				t.Fatalf("Countries: %v", err)
			}
			var codes []string
			for _, c := range all {
				codes = append(codes, c.Code)
			}
			if diff := cmp.Diff([]string{"gh", "ke", "za"}, codes); diff != "" {
				t.Errorf("Countries codes (-want +got):\n%s", diff)
			}
			for _, key := range []string{"gh", "GH", strconv.FormatInt(gh.ID, 10)} {
				c, err := st.Country(ctx, key)
				if err != nil {
					t.Fatalf("Country(%q): %v", key, err)
				}
				if diff := cmp.Diff([]string{"gh.localhost", "jobs.example.com"}, c.Hosts); diff != "" {
					t.Errorf("Country(%q).Hosts (-want +got):\n%s", key, diff)
				}
			}
			_, err = st.Country(ctx, "zz")
			wantCode(t, err, atsgate.ENOTFOUND)
			_, err = st.Country(ctx, "999999")
			wantCode(t, err, atsgate.ENOTFOUND)
			if empty, err := st.Empty(ctx); err != nil || empty {
				t.Errorf("Empty() = %v, %v; want false", empty, err)
			}
		})
	})
}

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

// TestCountryByHostAcrossInstances: a host unknown to one instance is
// found as soon as another instance adds its country (the host cache keeps
// no misses), and repeated lookups give equal, independent copies.
func TestCountryByHostAcrossInstances(t *testing.T) {
	ctx := context.Background()
	url := dbtest.PostgresURL(t)
	a, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.CountryByHost(ctx, "ke.example.test"); atsgate.ErrorCode(err) != atsgate.EUNKNOWNHOST {
		t.Fatalf("before: %v", err)
	}
	if _, err := b.CreateCountry(ctx, atsgate.Country{Code: "ke", Name: "Kenya", Hosts: []string{"ke.example.test"},
		Currency: "KES", TimeZone: "Africa/Nairobi", Price: decimal.NewFromInt(1500)}); err != nil {
		t.Fatal(err)
	}
	c1, err := a.CountryByHost(ctx, "KE.example.test:443")
	if err != nil || c1.Code != "ke" {
		t.Fatalf("after: %+v, %v", c1, err)
	}
	c1.Name = "changed by a caller"
	c2, err := a.CountryByHost(ctx, "ke.example.test")
	if err != nil || c2.Name != "Kenya" || c2.Location == nil {
		t.Fatalf("second lookup: %+v, %v", c2, err)
	}
}
