package atsgate_test

import (
	"errors"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// fieldNames lists the bad fields of an EINVALID error, sorted.
func fieldNames(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *atsgate.Error
	if !errors.As(err, &e) || e.Code != atsgate.EINVALID {
		t.Fatalf("error = %v, want %s", err, atsgate.EINVALID)
	}
	var names []string
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func TestCountryValidate(t *testing.T) {
	t.Parallel()
	t.Run("normalised", func(t *testing.T) {
		c := atsgate.Country{Code: " GH ", Name: " Ghana ", Hosts: []string{"GH.Localhost:8080", "jobs.example.com."},
			Currency: "ghs", TimeZone: "Africa/Accra", Price: decimal.RequireFromString("50.25"), PublicURL: " http://gh.localhost:8080/ "}
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		want := atsgate.Country{Code: "gh", Name: "Ghana", Hosts: []string{"gh.localhost", "jobs.example.com"},
			Currency: "GHS", TimeZone: "Africa/Accra", Price: decimal.RequireFromString("50.25"), PublicURL: "http://gh.localhost:8080"}
		if diff := cmp.Diff(want, c, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("Validate (-want +got):\n%s", diff)
		}
	})
	t.Run("default public url", func(t *testing.T) {
		c := atsgate.Country{Code: "za", Name: "South Africa", Hosts: []string{"za.example.com"}, Currency: "ZAR",
			TimeZone: "Africa/Johannesburg"}
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if c.PublicURL != "https://za.example.com" {
			t.Errorf("PublicURL = %q, want https://za.example.com", c.PublicURL)
		}
	})
	t.Run("refused", func(t *testing.T) {
		valid := func() atsgate.Country {
			return atsgate.Country{Code: "ng", Name: "Nigeria", Hosts: []string{"ng.localhost"}, Currency: "NGN",
				TimeZone: "Africa/Lagos", Price: decimal.NewFromInt(10)}
		}
		tests := []struct {
			name   string
			edit   func(c *atsgate.Country)
			fields []string
		}{
			{"bad code", func(c *atsgate.Country) { c.Code = "ngr" }, []string{"code"}},
			{"no name", func(c *atsgate.Country) { c.Name = " " }, []string{"name"}},
			{"bad currency", func(c *atsgate.Country) { c.Currency = "NAIRA" }, []string{"currency"}},
			{"bad time zone", func(c *atsgate.Country) { c.TimeZone = "Africa/Atlantis" }, []string{"timezone"}},
			{"empty time zone", func(c *atsgate.Country) { c.TimeZone = "" }, []string{"timezone"}},
			{"negative price", func(c *atsgate.Country) { c.Price = decimal.NewFromInt(-1) }, []string{"price"}},
			{"sub-minor price", func(c *atsgate.Country) { c.Price = decimal.RequireFromString("10.005") }, []string{"price"}},
			{"huge price", func(c *atsgate.Country) { c.Price = decimal.RequireFromString("92233720368547758.08") }, []string{"price"}},
			{"no host", func(c *atsgate.Country) { c.Hosts = nil }, []string{"host", "public_url"}},
			{"bad host", func(c *atsgate.Country) { c.Hosts = []string{"ng localhost"} }, []string{"host", "public_url"}},
			{"bad public url", func(c *atsgate.Country) { c.PublicURL = "ftp://ng.localhost" }, []string{"public_url"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := valid()
				tt.edit(&c)
				if diff := cmp.Diff(tt.fields, fieldNames(t, c.Validate())); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestIsCountryCode(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"gh": true, "ke": true, "GH": false, "g": false, "ghh": false, "1": false, "": false, "g1": false} {
		if got := atsgate.IsCountryCode(s); got != want {
			t.Errorf("IsCountryCode(%q) = %v, want %v", s, got, want)
		}
	}
}
