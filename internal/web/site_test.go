package web_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// get fetches a site page on host without following redirects.
func (e *env) get(t testing.TB, host, target string, header ...string) response {
	t.Helper()
	req := e.request(t, http.MethodGet, target, host, "", nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Transport: e.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", target, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// pathOf is a public link's path.
func pathOf(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Path == "" {
		t.Fatalf("public link %q: %v", link, err)
	}
	return u.Path
}

// siteEnv is a Ghana site with a few published jobs, an hour apart.
type siteEnv struct {
	*env
	emp employer
}

func newSiteEnv(t *testing.T, dialect string) *siteEnv {
	t.Helper()
	e := newEnvOn(t, dialect)
	return &siteEnv{env: e, emp: e.employer(t, "gh", "Kofi Foods Ltd", "10000", autoPublish)}
}

func (s *siteEnv) publish(t *testing.T, body map[string]any) record {
	t.Helper()
	s.clock.Advance(time.Hour)
	rec := s.create(t, s.emp, body)
	if rec.PublicLink == "" {
		t.Fatalf("job %v has no public link: %+v", body["external_id"], rec)
	}
	return rec
}

func TestSiteListing(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"postgres", "sqlite"} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			s := newSiteEnv(t, d)
			for i := 1; i <= 25; i++ {
				s.publish(t, job(fmt.Sprintf("J%02d", i), "title", fmt.Sprintf("Baker number %d", i)))
			}
			s.publish(t, job("CHEF", "title", "Head chef", "states", []any{2}, "job_type", "full_time",
				"description", "<p>Kitchen lead in Kumasi</p>"))
			ng := s.employer(t, "ng", "Lagos Ltd", "100000", autoPublish)
			s.create(t, ng, job("NG", "title", "Nigerian baker"))

			res := s.get(t, "gh.localhost", "/").wantStatus(t, http.StatusOK)
			body := string(res.Body)
			if !strings.Contains(body, "Head chef") || strings.Contains(body, "Nigerian baker") {
				t.Errorf("listing shows the wrong jobs:\n%s", body)
			}
			if strings.Index(body, "Head chef") > strings.Index(body, "Baker number 25") {
				t.Error("listing is not newest first")
			}
			if got := strings.Count(body, `class="job"`); got != 20 {
				t.Errorf("first page has %d jobs, want 20", got)
			}
			if !strings.Contains(body, `<link rel="canonical" href="https://gh.example.test/">`) {
				t.Error("home page has no canonical link")
			}
			next := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(body)
			if next == nil {
				t.Fatalf("no next link on the first page")
			}
			page2 := string(s.get(t, "gh.localhost", strings.ReplaceAll(next[1], "&amp;", "&")).wantStatus(t, http.StatusOK).Body)
			if got := strings.Count(page2, `class="job"`); got != 6 || !strings.Contains(page2, "Baker number 1<") ||
				strings.Contains(page2, `rel="next"`) {
				t.Errorf("second page has %d jobs (want 6, ending with Baker number 1, no next link):\n%s", got, page2)
			}

			// Search and two filters, kept in the page links.
			res = s.get(t, "gh.localhost", "/?q=kitchen&state=2&job_type=FULL_TIME").wantStatus(t, http.StatusOK)
			body = string(res.Body)
			if strings.Count(body, `class="job"`) != 1 || !strings.Contains(body, "Head chef") {
				t.Errorf("search with filters:\n%s", body)
			}
			if !strings.Contains(body, `<option value="2" selected>Ashanti</option>`) || !strings.Contains(body, `value="kitchen"`) {
				t.Error("the search form does not keep the search")
			}
			if !strings.Contains(body, `href="/feed.xml?job_type=FULL_TIME&amp;q=kitchen&amp;state=2"`) {
				t.Error("the feed link does not keep the filters")
			}
			// Unknown values: ignored with a note, never a 500.
			for _, q := range []string{"/?state=999", "/?state=abc", "/?job_type=ASTRONAUT", "/?qualification=-1",
				"/?specialization=99999999999999999999", "/?after=garbage", "/?q=%00%ff", "/?q=" + strings.Repeat("x+", 5000)} {
				res := s.get(t, "gh.localhost", q)
				if res.Status != http.StatusOK {
					t.Errorf("GET %s = %d, want 200", q, res.Status)
					continue
				}
				if !strings.Contains(q, "q=") && !strings.Contains(string(res.Body), `class="note"`) {
					t.Errorf("GET %s shows no note about the ignored value", q)
				}
			}
			if got := strings.Count(string(s.get(t, "gh.localhost", "/?state=999").Body), `class="job"`); got != 20 {
				t.Errorf("an ignored filter narrowed the listing to %d jobs", got)
			}
			// An unknown host is the API's 404.
			s.get(t, "elsewhere.test", "/").wantStatus(t, http.StatusNotFound)
		})
	}
}

// jsonLD extracts the page's JobPosting.
func jsonLD(t *testing.T, body string) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no JSON-LD in the page")
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(m[1]), &v); err != nil {
		t.Fatalf("JSON-LD does not parse: %v\n%s", err, m[1])
	}
	return v
}

func TestSiteJobPage(t *testing.T) {
	t.Parallel()
	s := newSiteEnv(t, "postgres")
	rec := s.publish(t, job("ACC", "title", "Senior Accountant", "description", `<p>Keep the <b>books</b>.</p><script>alert(1)</script>`,
		"salary", 4500, "deadline", "2026-07-31", "states", []any{2}, "job_type", "CONTRACT", "location_city", "Kumasi",
		"apply_url", "https://kofi.example/apply", "company_website", "https://kofi.example"))
	path := pathOf(t, rec.PublicLink)
	res := s.get(t, "gh.localhost", path).wantStatus(t, http.StatusOK)
	body := string(res.Body)
	for _, want := range []string{"<h1>Senior Accountant</h1>", "Kofi Foods Ltd", "Kumasi, Ashanti", "GHS 4,500",
		"31 July 2026", `href="https://kofi.example/apply"`, `<link rel="canonical" href="` + rec.PublicLink + `">`,
		`<meta name="description" content="Keep the books.">`, "<b>books</b>"} {
		if !strings.Contains(body, want) {
			t.Errorf("job page lacks %q", want)
		}
	}
	if strings.Contains(body, "alert(1)") {
		t.Error("the description's script survived sanitising")
	}
	ld := jsonLD(t, body)
	id := strings.TrimPrefix(strings.SplitN(path, "-", 2)[0], "/jobs/")
	want := map[string]any{
		"@context": "https://schema.org/", "@type": "JobPosting", "title": "Senior Accountant",
		"description":        "<p>Keep the <b>books</b>.</p>",
		"datePosted":         "2026-06-18T10:14:32Z",
		"validThrough":       "2026-07-31T23:59:59Z",
		"employmentType":     "CONTRACTOR",
		"url":                rec.PublicLink,
		"directApply":        false,
		"hiringOrganization": map[string]any{"@type": "Organization", "name": "Kofi Foods Ltd", "sameAs": "https://kofi.example"},
		"jobLocation": map[string]any{"@type": "Place", "address": map[string]any{"@type": "PostalAddress",
			"addressLocality": "Kumasi", "addressRegion": "Ashanti", "addressCountry": "GH"}},
		"baseSalary": map[string]any{"@type": "MonetaryAmount", "currency": "GHS",
			"value": map[string]any{"@type": "QuantitativeValue", "value": 4500.0}},
		"identifier": map[string]any{"@type": "PropertyValue", "name": "Ghana jobs", "value": id},
	}
	for k, v := range want {
		if got, _ := json.Marshal(ld[k]); string(got) != mustJSON(t, v) {
			t.Errorf("JSON-LD %s = %s, want %s", k, got, mustJSON(t, v))
		}
	}
	for k := range ld {
		if _, ok := want[k]; !ok {
			t.Errorf("JSON-LD has unexpected property %s = %v", k, ld[k])
		}
	}

	// A stale or missing slug redirects to the current path.
	for _, p := range []string{strings.Replace(path, "senior", "junior", 1), "/jobs/" + id} {
		res := s.get(t, "gh.localhost", p).wantStatus(t, http.StatusMovedPermanently)
		if res.Header.Get("Location") != path {
			t.Errorf("GET %s redirects to %q, want %q", p, res.Header.Get("Location"), path)
		}
	}
	// Another country's host: the same 404 as an unknown job.
	notFound := s.get(t, "gh.localhost", "/jobs/999999-nothing").wantStatus(t, http.StatusNotFound)
	if other := s.get(t, "ng.localhost", path).wantStatus(t, http.StatusNotFound); string(other.Body) == "" ||
		strings.ReplaceAll(string(other.Body), "Nigeria", "Ghana") != string(notFound.Body) {
		t.Errorf("another country's job answers a different 404:\n%s\n---\n%s", other.Body, notFound.Body)
	}
	s.get(t, "gh.localhost", "/jobs/0123-x").wantStatus(t, http.StatusNotFound)

	// A pending job is the same 404; closing makes a public job 410.
	reviewed := s.employer(t, "gh", "Reviewed Co", "1000")
	pending := s.create(t, reviewed, job("P1"))
	if pending.State != "pending_review" {
		t.Fatalf("job is %s, want pending", pending.State)
	}
	stored := s.storedJob(t, reviewed.ID, "P1")
	s.get(t, "gh.localhost", fmt.Sprintf("/jobs/%d", stored.ID)).wantStatus(t, http.StatusNotFound)
	s.call(t, s.emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "ACC"}).wantStatus(t, http.StatusOK)
	gone := s.get(t, "gh.localhost", path).wantStatus(t, http.StatusGone)
	if strings.Contains(string(gone.Body), "Keep the") || !strings.Contains(string(gone.Body), "no longer open") {
		t.Errorf("410 page:\n%s", gone.Body)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSiteHiddenCompany: a job with show_company_name false names its
// company nowhere: page, JSON-LD, listing, feed, search.
func TestSiteHiddenCompany(t *testing.T) {
	t.Parallel()
	s := newSiteEnv(t, "sqlite")
	rec := s.publish(t, job("HID", "title", "Remote analyst", "show_company_name", false, "company_name", "Hush Corp",
		"workplace_type", "REMOTE"))
	page := string(s.get(t, "gh.localhost", pathOf(t, rec.PublicLink)).wantStatus(t, http.StatusOK).Body)
	for name, body := range map[string]string{
		"page":    page,
		"listing": string(s.get(t, "gh.localhost", "/").Body),
		"feed":    string(s.get(t, "gh.localhost", "/feed.xml").Body),
	} {
		if strings.Contains(body, "Hush") || strings.Contains(body, "Kofi") {
			t.Errorf("%s names the hidden company:\n%s", name, body)
		}
	}
	ld := jsonLD(t, page)
	if got := mustJSON(t, ld["hiringOrganization"]); got != `{"@type":"Organization","name":"Confidential employer"}` {
		t.Errorf("hiringOrganization = %s", got)
	}
	if ld["jobLocationType"] != "TELECOMMUTE" || mustJSON(t, ld["applicantLocationRequirements"]) != `{"@type":"Country","name":"Ghana"}` || ld["jobLocation"] != nil {
		t.Errorf("remote job location: %v %v %v", ld["jobLocationType"], ld["applicantLocationRequirements"], ld["jobLocation"])
	}
	for _, q := range []string{"hush", "kofi"} {
		if strings.Contains(string(s.get(t, "gh.localhost", "/?q="+q).Body), "Remote analyst") {
			t.Errorf("search for %q finds the job of a hidden company", q)
		}
	}
}

// TestSiteFeedSitemapRobots: the three leave an ended job at once.
func TestSiteFeedSitemapRobots(t *testing.T) {
	t.Parallel()
	s := newSiteEnv(t, "postgres")
	a := s.publish(t, job("A", "title", "Welder", "job_type", "PART_TIME"))
	b := s.publish(t, job("B", "title", "Plumber"))
	robots := string(s.get(t, "gh.localhost", "/robots.txt").wantStatus(t, http.StatusOK).Body)
	if !strings.Contains(robots, "Sitemap: https://gh.example.test/sitemap.xml") {
		t.Errorf("robots.txt:\n%s", robots)
	}
	var feed struct {
		Version string `xml:"version,attr"`
		Items   []struct {
			Title   string `xml:"title"`
			Link    string `xml:"link"`
			GUID    string `xml:"guid"`
			PubDate string `xml:"pubDate"`
		} `xml:"channel>item"`
	}
	res := s.get(t, "gh.localhost", "/feed.xml").wantStatus(t, http.StatusOK)
	if err := xml.Unmarshal(res.Body, &feed); err != nil || feed.Version != "2.0" || len(feed.Items) != 2 ||
		feed.Items[0].Link != b.PublicLink || feed.Items[0].Title != "Plumber at Kofi Foods Ltd" {
		t.Errorf("feed = %+v, %v\n%s", feed, err, res.Body)
	}
	if _, err := time.Parse(time.RFC1123Z, feed.Items[0].PubDate); err != nil {
		t.Errorf("pubDate %q: %v", feed.Items[0].PubDate, err)
	}
	filtered := string(s.get(t, "gh.localhost", "/feed.xml?job_type=PART_TIME").Body)
	if !strings.Contains(filtered, "Welder") || strings.Contains(filtered, "Plumber") {
		t.Errorf("filtered feed:\n%s", filtered)
	}
	sitemap := string(s.get(t, "gh.localhost", "/sitemap.xml").wantStatus(t, http.StatusOK).Body)
	for _, want := range []string{"<loc>https://gh.example.test/</loc>", "<loc>" + a.PublicLink + "</loc>", "<loc>" + b.PublicLink + "</loc>", "<lastmod>2026-06-18T"} {
		if !strings.Contains(sitemap, want) {
			t.Errorf("sitemap lacks %s:\n%s", want, sitemap)
		}
	}
	s.call(t, s.emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "A"})
	for _, p := range []string{"/", "/feed.xml", "/sitemap.xml"} {
		if strings.Contains(string(s.get(t, "gh.localhost", p).Body), "Welder") || strings.Contains(string(s.get(t, "gh.localhost", p).Body), a.PublicLink) {
			t.Errorf("%s still shows the closed job", p)
		}
	}
}

// TestSiteCaching: ETag and Last-Modified revalidate to 304 until the
// page changes; Cache-Control allows at most a minute.
func TestSiteCaching(t *testing.T) {
	t.Parallel()
	s := newSiteEnv(t, "postgres")
	rec := s.publish(t, job("A", "title", "Welder"))
	path := pathOf(t, rec.PublicLink)
	for _, p := range []string{"/", path, "/sitemap.xml", "/feed.xml"} {
		res := s.get(t, "gh.localhost", p).wantStatus(t, http.StatusOK)
		etag, lm := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
		if etag == "" || lm == "" || res.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Errorf("%s: ETag %q, Last-Modified %q, Cache-Control %q", p, etag, lm, res.Header.Get("Cache-Control"))
			continue
		}
		s.get(t, "gh.localhost", p, "If-None-Match", etag).wantStatus(t, http.StatusNotModified)
		s.get(t, "gh.localhost", p, "If-Modified-Since", lm).wantStatus(t, http.StatusNotModified)
		s.get(t, "gh.localhost", p, "If-None-Match", `"other"`, "If-Modified-Since", lm).wantStatus(t, http.StatusOK)
	}
	before := s.get(t, "gh.localhost", "/")
	s.clock.Advance(time.Minute)
	updated := s.call(t, s.emp, http.MethodPut, "/api/ats/jobs", map[string]any{"external_id": "A", "title": "Master welder"}).wantStatus(t, http.StatusOK)
	after := s.get(t, "gh.localhost", "/", "If-None-Match", before.Header.Get("ETag"), "If-Modified-Since", before.Header.Get("Last-Modified"))
	after.wantStatus(t, http.StatusOK)
	if !strings.Contains(string(after.Body), "Master welder") {
		t.Error("the listing does not show the update")
	}
	// The slug follows the live title: the old link redirects, the new one
	// is fresh for a client holding the old page's date.
	s.get(t, "gh.localhost", path).wantStatus(t, http.StatusMovedPermanently)
	path = pathOf(t, updated.record(t).PublicLink)
	s.get(t, "gh.localhost", path, "If-Modified-Since", before.Header.Get("Last-Modified")).wantStatus(t, http.StatusOK)
	// Closing is 410 at the origin at once, whatever the client holds.
	s.call(t, s.emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "A"})
	s.get(t, "gh.localhost", path, "If-None-Match", "*").wantStatus(t, http.StatusGone)
	_ = atsgate.StateClosed
}

// TestSiteUnrouted: a dead link on a country's host is the site's HTML 404
// page, the same one an unknown job gets; programs under the API prefixes
// keep their JSON errors, and a host that is no country's keeps its JSON
// not_found.
func TestSiteUnrouted(t *testing.T) {
	t.Parallel()
	s := newSiteEnv(t, "postgres")
	unknownJob := s.get(t, "gh.localhost", "/jobs/999999-nothing").wantStatus(t, http.StatusNotFound)
	for _, p := range []string{"/careers", "/jobs", "/jobs/", "/static/missing.css", "/wp-login.php", "/a/b/c?x=1"} {
		res := s.get(t, "gh.localhost", p).wantStatus(t, http.StatusNotFound)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s on a country host: Content-Type %q, want the HTML page", p, ct)
		}
		if string(res.Body) != string(unknownJob.Body) {
			t.Errorf("GET %s: a different 404 page from an unknown job's:\n%s", p, res.Body)
		}
		if res.Header.Get("Cache-Control") != "public, max-age=60" || res.Header.Get("ETag") == "" {
			t.Errorf("GET %s: Cache-Control %q, ETag %q", p, res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
		}
	}
	// Nigeria's 404 is Nigeria's page.
	if res := s.get(t, "ng.localhost", "/careers").wantStatus(t, http.StatusNotFound); !strings.Contains(string(res.Body), "Nigeria") {
		t.Errorf("Nigeria's 404 does not name Nigeria:\n%s", res.Body)
	}
	// (Unknown paths under the ERP base answer in the ERP envelope when
	// the ERP dialect is served: TestERPErrors.)
	for _, p := range []string{"/api/nothing", "/api"} {
		s.get(t, "gh.localhost", p).wantError(t, http.StatusNotFound, "not_found")
	}
	// Under the jobs URL's prefix the API's own checks answer first, in JSON.
	if res := s.get(t, "gh.localhost", "/api/ats/nothing"); !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("/api/ats/nothing: %d %q", res.Status, res.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/careers", "/api/nothing"} {
		s.get(t, "nowhere.example", p).wantError(t, http.StatusNotFound, "not_found")
	}
}

// TestSiteErrorPagesCaching: the 404 and 410 pages carry the same caching
// headers as the pages (a minute, public, an ETag of their bytes), and a
// conditional request never turns them into a 304: preconditions apply to
// what would be a 200.
func TestSiteErrorPagesCaching(t *testing.T) {
	t.Parallel()
	s := newSiteEnv(t, "postgres")
	rec := s.publish(t, job("A", "title", "Welder"))
	path := pathOf(t, rec.PublicLink)
	s.call(t, s.emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "A"}).wantStatus(t, http.StatusOK)
	for _, c := range []struct {
		path   string
		status int
	}{{path, http.StatusGone}, {"/jobs/999999-nothing", http.StatusNotFound}, {"/nothing-here", http.StatusNotFound}} {
		res := s.get(t, "gh.localhost", c.path).wantStatus(t, c.status)
		etag := res.Header.Get("ETag")
		if res.Header.Get("Cache-Control") != "public, max-age=60" || etag == "" ||
			res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Last-Modified") != "" {
			t.Errorf("%s: Cache-Control %q, ETag %q, Last-Modified %q", c.path, res.Header.Get("Cache-Control"), etag, res.Header.Get("Last-Modified"))
		}
		again := s.get(t, "gh.localhost", c.path, "If-None-Match", etag).wantStatus(t, c.status)
		if again.Header.Get("ETag") != etag || len(again.Body) == 0 {
			t.Errorf("%s again: ETag %q (was %q), %d bytes", c.path, again.Header.Get("ETag"), etag, len(again.Body))
		}
		s.get(t, "gh.localhost", c.path, "If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)).wantStatus(t, c.status)
	}
}
