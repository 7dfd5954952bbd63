package config

import (
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the binary embeds tzdata too; tests must not depend on the host's zoneinfo

	"github.com/atsgate/atsgate/internal/atsgate"
)

func TestEveryFileParses(t *testing.T) {
	if _, err := DevCountries(); err != nil {
		t.Fatalf("DevCountries: %v", err)
	}
	common, countries, err := parseTaxonomies()
	if err != nil {
		t.Fatalf("parseTaxonomies: %v", err)
	}
	if len(common.Qualifications) == 0 || len(common.Specializations) == 0 {
		t.Errorf("common taxonomy has %d qualifications and %d specializations; want both non-empty",
			len(common.Qualifications), len(common.Specializations))
	}
	names, err := fs.Glob(files, "taxonomy/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(countries), len(names)-1; got != want {
		t.Errorf("parsed %d country taxonomies from %d files (plus common.json)", got, want)
	}
}

func TestTermLists(t *testing.T) {
	_, countries, err := parseTaxonomies()
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string][]atsgate.Term{}
	for code, tx := range countries {
		lists[code+"/states"] = tx.States
		// The common lists are shared by every country; checking them once is enough.
		lists["common/qualifications"] = tx.Qualifications
		lists["common/specializations"] = tx.Specializations
	}
	for name, terms := range lists {
		t.Run(name, func(t *testing.T) {
			ids := map[int64]bool{}
			names := map[string]bool{}
			for _, term := range terms {
				if term.ID <= 0 {
					t.Errorf("term %q has non-positive ID %d", term.Name, term.ID)
				}
				if ids[term.ID] {
					t.Errorf("ID %d is used twice", term.ID)
				}
				ids[term.ID] = true
				if strings.TrimSpace(term.Name) == "" {
					t.Errorf("ID %d has an empty name", term.ID)
				}
				if names[term.Name] {
					t.Errorf("name %q is used twice", term.Name)
				}
				names[term.Name] = true
			}
		})
	}
}

func TestDevCountries(t *testing.T) {
	seeds, err := DevCountries()
	if err != nil {
		t.Fatal(err)
	}
	if len(seeds) == 0 {
		t.Fatal("the development catalog is empty")
	}
	codeRE := regexp.MustCompile(`^[a-z]{2}$`)
	currencyRE := regexp.MustCompile(`^[A-Z]{3}$`)
	codes := map[string]bool{}
	hosts := map[string]string{}
	for _, c := range seeds {
		t.Run(c.Code, func(t *testing.T) {
			if !codeRE.MatchString(c.Code) {
				t.Errorf("code %q is not two lowercase letters", c.Code)
			}
			if codes[c.Code] {
				t.Errorf("code %q is listed twice", c.Code)
			}
			codes[c.Code] = true
			if c.Name == "" {
				t.Error("name is empty")
			}
			if len(c.Hosts) == 0 {
				t.Error("no hosts")
			}
			for _, h := range c.Hosts {
				if other, ok := hosts[h]; ok {
					t.Errorf("host %q is also used by %q", h, other)
				}
				hosts[h] = c.Code
			}
			if !currencyRE.MatchString(c.Currency) {
				t.Errorf("currency %q is not an ISO 4217 code", c.Currency)
			}
			if _, err := time.LoadLocation(c.TimeZone); err != nil {
				t.Errorf("time zone: %v", err)
			}
			price, err := atsgate.ParseAmount(c.Price)
			if err != nil {
				t.Errorf("price: %v", err)
			} else if !price.IsPositive() {
				t.Errorf("price %s is not positive", price)
			}
			u, err := url.Parse(c.PublicURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				t.Errorf("public_url %q is not an absolute http(s) URL", c.PublicURL)
			} else if !slices.Contains(c.Hosts, u.Hostname()) {
				t.Errorf("public_url host %q is not one of the country's hosts %q", u.Hostname(), c.Hosts)
			}

			tx := Taxonomy(c.Code)
			if tx.Country != c.Code {
				t.Errorf("Taxonomy(%q).Country = %q", c.Code, tx.Country)
			}
			if len(tx.States) == 0 {
				t.Errorf("Taxonomy(%q) has no states", c.Code)
			}
		})
	}
}

func TestDevCountriesReturnsACopy(t *testing.T) {
	a, err := DevCountries()
	if err != nil {
		t.Fatal(err)
	}
	a[0].Hosts[0] = "changed.example"
	b, err := DevCountries()
	if err != nil {
		t.Fatal(err)
	}
	if b[0].Hosts[0] == "changed.example" {
		t.Error("modifying one result changed the next")
	}
}

func TestStateCounts(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{"ng", 37}, // 36 states and the FCT
		{"gh", 16},
		{"ke", 47},
		{"za", 9},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := len(Taxonomy(tt.code).States); got != tt.want {
				t.Errorf("len(States) = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTaxonomyLookups(t *testing.T) {
	ng := Taxonomy("ng")
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"state 1", ng.HasState(1), true},
		{"state 37 (FCT)", ng.HasState(37), true},
		{"state 38", ng.HasState(38), false},
		{"state 0", ng.HasState(0), false},
		{"state -1", ng.HasState(-1), false},
		{"qualification 1", ng.HasQualification(1), true},
		{"qualification 10", ng.HasQualification(10), true},
		{"qualification 999", ng.HasQualification(999), false},
		{"specialization 1", ng.HasSpecialization(1), true},
		{"specialization 999", ng.HasSpecialization(999), false},
		{"za state 10", Taxonomy("za").HasState(10), false},
		{"upper-case code", Taxonomy("NG").HasState(37), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestTaxonomyUnknownCountry(t *testing.T) {
	tx := Taxonomy("XX")
	if tx.Country != "xx" {
		t.Errorf("Country = %q, want %q", tx.Country, "xx")
	}
	if tx.States == nil || len(tx.States) != 0 {
		t.Errorf("States = %#v, want an empty non-nil list", tx.States)
	}
	if tx.HasState(1) {
		t.Error("HasState(1) = true for a country without states")
	}
	if !tx.HasQualification(1) || !tx.HasSpecialization(1) {
		t.Error("a country without a file should still have the common lists")
	}
}

func TestTaxonomyIsCached(t *testing.T) {
	if Taxonomy("gh") != Taxonomy("gh") {
		t.Error("Taxonomy returned a new value for the same country")
	}
}

func TestExampleEnv(t *testing.T) {
	b, err := os.ReadFile("example.env")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("line %d: %q is not NAME=value", i+1, line)
			continue
		}
		if _, dup := got[name]; dup {
			t.Errorf("line %d: %s is set twice", i+1, name)
		}
		got[name] = value
	}
	// The defaults of SPEC section 1.
	want := map[string]string{
		"DATABASE_URL":               "sqlite://var/atsgate.db",
		"REDIS_URL":                  "",
		"ATSGATE_ADDR":               ":8080",
		"ATSGATE_ADMIN_ADDR":         "127.0.0.1:8081",
		"ATSGATE_RATE_LIMIT":         "120",
		"ATSGATE_AUTH_FAILURE_LIMIT": "60",
		"ATSGATE_TRUSTED_PROXIES":    "",
		"ATSGATE_ENV":                "dev",
	}
	for name, def := range want {
		v, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s is missing", name)
		case v != def:
			t.Errorf("%s=%q, want the default %q", name, v, def)
		}
	}
}
