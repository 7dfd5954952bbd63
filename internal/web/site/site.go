package site

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/microcosm-cc/bluemonday"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// templatesFS holds the pages and the stylesheet; nothing is built or
// fetched at run time.
//
//go:embed templates
var templatesFS embed.FS

// MaxAge is how long a browser or CDN may keep a page: a closed job must
// be gone from every cache within a minute (SPEC section 6).
const MaxAge = 60 * time.Second

// SitemapPart is the most URLs one sitemap file may hold (sitemaps.org).
const SitemapPart = 50_000

// PageSize is the jobs per listing page.
const PageSize = 20

// FeedSize is the items of the RSS feed.
const FeedSize = 50

// Handler serves the public sites of every country; the country is the
// one middleware.ResolveCountry found for the request's host.
type Handler struct {
	site     atsgate.Site
	taxonomy func(countryCode string) *atsgate.Taxonomy
	now      atsgate.Clock
	log      *slog.Logger
	policy   *bluemonday.Policy
	text     *bluemonday.Policy // strips every tag, for meta descriptions
	pages    map[string]*template.Template

	// optionsHTML holds the filters' rendered options by country, filter
	// and choice (Handler.options).
	optionsHTML sync.Map

	// sitemapPart is SitemapPart; tests lower it to see the index.
	sitemapPart int
}

// New returns the handler over the site's store and the taxonomies.
func New(site atsgate.Site, taxonomy func(string) *atsgate.Taxonomy, now atsgate.Clock, log *slog.Logger) *Handler {
	return &Handler{site: site, taxonomy: taxonomy, now: now, log: log, policy: mw.Sanitizer(),
		text: bluemonday.StrictPolicy(), pages: parsePages(), sitemapPart: SitemapPart}
}

// parsePages parses every page with the layout. A broken template is a
// programming error the tests catch at once, so it panics.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templatesFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		out[base] = template.Must(template.New("layout.html").ParseFS(templatesFS, "templates/layout.html", n))
	}
	return out
}

// page is what the layout needs from every page.
type page struct {
	Country     *atsgate.Country
	Title       string
	Description string // meta description; "" for none
	Canonical   string // absolute; "" for none
	Robots      string // e.g. "noindex"; "" for the default
	FeedURL     string
	Content     any
}

// render executes a page into a buffer, so a template error is a 500 and
// never half a page.
func (h *Handler) render(name string, p page) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.pages[name].Execute(&buf, p); err != nil {
		return nil, atsgate.Internal(err)
	}
	return buf.Bytes(), nil
}

// send writes a cacheable response. Every page gets an ETag from its
// bytes, which is exact whatever changed (a job's text, one leaving the
// page, a deadline passing at midnight), and the same Cache-Control: the
// 404 and 410 pages too, since a pending job's 404 turns into its page
// when it is approved, and a closed job must be gone within the minute
// everywhere. A 200 also gets a Last-Modified for caches that only
// revalidate by date, and conditional requests for it are answered 304
// (RFC 9110 13.2.2: If-None-Match, when sent, decides alone). A 404 or 410
// is always sent whole: preconditions apply only to what would be a 2xx
// (RFC 9110 13.2.1), and a cache revalidating an error page must not be
// told it may keep showing it as if it were the page. Nothing here varies
// with a request header other than Host, which is part of every cache's
// key already, so no Vary is sent.
func send(c echo.Context, status int, contentType string, body []byte, lastMod time.Time) error {
	hdr := c.Response().Header()
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(MaxAge/time.Second)))
	hdr.Set("X-Content-Type-Options", "nosniff")
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	hdr.Set("ETag", etag)
	if status != http.StatusOK {
		return c.Blob(status, contentType, body)
	}
	if !lastMod.IsZero() {
		hdr.Set("Last-Modified", lastMod.UTC().Format(http.TimeFormat))
	}
	if notModified(c.Request(), etag, lastMod) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(status, contentType, body)
}

func notModified(r *http.Request, etag string, lastMod time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == etag || t == "*" {
				return true
			}
		}
		return false
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	return err == nil && !lastMod.IsZero() && !lastMod.Truncate(time.Second).After(ims)
}

// lastChange is the Last-Modified of a page built from the whole country:
// its jobs' last change, or the country's midnight if later, since jobs
// past their deadline leave the pages then without any row changing.
func (h *Handler) lastChange(c echo.Context, country *atsgate.Country) (time.Time, error) {
	at, err := h.site.SiteChanged(c.Request().Context(), country)
	if err != nil {
		return time.Time{}, err
	}
	local := country.Local(h.now())
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
	if midnight.After(at) {
		at = midnight
	}
	return at, nil
}

// Stylesheet serves the one stylesheet.
func (h *Handler) Stylesheet(c echo.Context) error {
	css, err := templatesFS.ReadFile("templates/site.css")
	if err != nil {
		return atsgate.Internal(err)
	}
	return send(c, http.StatusOK, "text/css; charset=utf-8", css, time.Time{})
}

// Robots serves robots.txt: everything but the API may be crawled, and the
// sitemap is named with the country's public URL.
func (h *Handler) Robots(c echo.Context) error {
	country := mw.CountryOf(c)
	body := "User-agent: *\nAllow: /\nDisallow: /api/\n\nSitemap: " + country.PublicURL + "/sitemap.xml\n"
	return send(c, http.StatusOK, "text/plain; charset=utf-8", []byte(body), time.Time{})
}

// Unrouted answers a path no route matches. On a country's host a person
// following a dead link gets the site's HTML 404 page, with the caching of
// every site page; the API prefixes (/api/, the ERP dialect's
// /recruitment/integration/erp) keep their JSON not_found for programs,
// and a host that is no country's keeps the same JSON not_found it had
// before the sites existed (resolve's unknown_host is not used, so an
// unrouted path tells a prober nothing new). resolve is the listener's
// host → country middleware.
func (h *Handler) Unrouted(resolve echo.MiddlewareFunc) echo.HandlerFunc {
	page := resolve(func(c echo.Context) error { return h.notFound(c, mw.CountryOf(c)) })
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if p == "/api" || strings.HasPrefix(p, "/api/") || p == erpPrefix || strings.HasPrefix(p, erpPrefix+"/") {
			return echo.ErrNotFound
		}
		err := page(c)
		if err != nil && atsgate.ErrorCode(err) == atsgate.EUNKNOWNHOST {
			return echo.ErrNotFound
		}
		return err
	}
}

// erpPrefix is where the ERP dialect's routes live; its unrouted paths
// answer in JSON like the ATS API's.
const erpPrefix = "/recruitment/integration/erp"
