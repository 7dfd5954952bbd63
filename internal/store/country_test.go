package store_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

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

// TestCountryByHostAcrossInstances: a host unknown to one instance is
// found within the host table's two seconds once another instance adds its
// country, and repeated lookups give equal, independent copies.
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
	var c1 *atsgate.Country
	deadline := time.Now().Add(3 * time.Second)
	for {
		c1, err = a.CountryByHost(ctx, "KE.example.test:443")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || c1.Code != "ke" {
		t.Fatalf("3 s after: %+v, %v", c1, err)
	}
	c1.Name = "changed by a caller"
	c2, err := a.CountryByHost(ctx, "ke.example.test")
	if err != nil || c2.Name != "Kenya" || c2.Location == nil {
		t.Fatalf("second lookup: %+v, %v", c2, err)
	}
}

// TestUnknownHostsCostNoQuery: a flood of requests for hosts no country
// serves reads the host table at most once per two seconds, not once per
// request, while known hosts keep resolving.
func TestUnknownHostsCostNoQuery(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		st := openStore(t, dialect)
		if _, err := st.CreateCountry(ctx, atsgate.Country{Code: "ke", Name: "Kenya", Hosts: []string{"ke.example.test"},
			Currency: "KES", TimeZone: "Africa/Nairobi", Price: decimal.NewFromInt(1500)}); err != nil {
			t.Fatal(err)
		}
		before := store.HostTableLoads(st)
		for i := 0; i < 1000; i++ {
			if _, err := st.CountryByHost(ctx, fmt.Sprintf("junk-%d.example.test", i)); atsgate.ErrorCode(err) != atsgate.EUNKNOWNHOST {
				t.Fatalf("junk host %d: %v", i, err)
			}
			if c, err := st.CountryByHost(ctx, "ke.example.test"); err != nil || c.Code != "ke" {
				t.Fatalf("known host: %+v, %v", c, err)
			}
		}
		if n := store.HostTableLoads(st) - before; n > 2 {
			t.Errorf("2000 lookups loaded the host table %d times, want at most 2", n)
		}
	})
}
