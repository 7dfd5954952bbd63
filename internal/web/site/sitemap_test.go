package site

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// fakeSite holds n public jobs with IDs 1..n; only the sitemap is real.
type fakeSite struct {
	atsgate.Site
	n int
}

func (f fakeSite) Sitemap(_ context.Context, _ *atsgate.Country, offset, limit int) ([]atsgate.SitemapEntry, int64, error) {
	var out []atsgate.SitemapEntry
	for id := offset + 1; id <= f.n && len(out) < limit; id++ {
		out = append(out, atsgate.SitemapEntry{ID: int64(id), Path: fmt.Sprintf("/jobs/%d", id), LastMod: time.Unix(0, 0)})
	}
	return out, int64(f.n), nil
}

func (f fakeSite) SiteChanged(context.Context, *atsgate.Country) (time.Time, error) {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil
}

// TestSitemapIndex: past the part size, /sitemap.xml is an index whose
// parts hold every job once.
func TestSitemapIndex(t *testing.T) {
	country := &atsgate.Country{Code: "gh", Name: "Ghana", PublicURL: "https://gh.example.test", Location: time.UTC}
	for _, tc := range []struct{ jobs, part, wantParts int }{{3, 10, 0}, {9, 10, 0}, {10, 10, 1}, {25, 10, 3}} {
		t.Run(fmt.Sprintf("%d jobs, parts of %d", tc.jobs, tc.part), func(t *testing.T) {
			h := New(fakeSite{n: tc.jobs}, nil, func() time.Time { return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) },
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			h.sitemapPart = tc.part
			get := func(path, part string) []byte {
				e := echo.New()
				rec := httptest.NewRecorder()
				c := e.NewContext(httptest.NewRequest(http.MethodGet, path, nil), rec)
				c.Set("atsgate.country", country) // what middleware.ResolveCountry sets
				c.SetParamNames("part")
				c.SetParamValues(part)
				var err error
				if part == "" {
					err = h.Sitemap(c)
				} else {
					err = h.SitemapPart(c)
				}
				if err != nil || rec.Code != http.StatusOK {
					t.Fatalf("GET %s: %d %v", path, rec.Code, err)
				}
				return rec.Body.Bytes()
			}
			body := get("/sitemap.xml", "")
			if tc.wantParts == 0 {
				var set struct {
					URLs []string `xml:"url>loc"`
				}
				if err := xml.Unmarshal(body, &set); err != nil || len(set.URLs) != tc.jobs+1 {
					t.Fatalf("sitemap has %d URLs (err %v), want %d:\n%s", len(set.URLs), err, tc.jobs+1, body)
				}
				return
			}
			var idx struct {
				XMLName xml.Name `xml:"sitemapindex"`
				Locs    []string `xml:"sitemap>loc"`
				Mods    []string `xml:"sitemap>lastmod"`
			}
			if err := xml.Unmarshal(body, &idx); err != nil || len(idx.Locs) != tc.wantParts || len(idx.Mods) != tc.wantParts {
				t.Fatalf("index = %+v (err %v):\n%s", idx, err, body)
			}
			seen := map[string]bool{}
			for n := 1; n <= tc.wantParts; n++ {
				if idx.Locs[n-1] != fmt.Sprintf("https://gh.example.test/sitemaps/%d.xml", n) {
					t.Errorf("part %d at %s", n, idx.Locs[n-1])
				}
				var set struct {
					URLs []string `xml:"url>loc"`
				}
				if err := xml.Unmarshal(get(fmt.Sprintf("/sitemaps/%d.xml", n), fmt.Sprintf("%d.xml", n)), &set); err != nil {
					t.Fatal(err)
				}
				if len(set.URLs) > tc.part {
					t.Errorf("part %d has %d URLs, more than %d", n, len(set.URLs), tc.part)
				}
				for _, u := range set.URLs {
					if seen[u] {
						t.Errorf("%s twice", u)
					}
					seen[u] = true
				}
			}
			if len(seen) != tc.jobs {
				t.Errorf("parts hold %d jobs, want %d", len(seen), tc.jobs)
			}
		})
	}
}
