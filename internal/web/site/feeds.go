package site

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// rss is an RSS 2.0 document.
type rss struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Self          atomLink  `xml:"atom:link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate"`
	TTL           int       `xml:"ttl"`
	Items         []rssItem `xml:"item"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Description string  `xml:"description"`
	Category    string  `xml:"category,omitempty"`
}

type rssGUID struct {
	PermaLink bool   `xml:"isPermaLink,attr"`
	Value     string `xml:",chardata"`
}

// Feed serves /feed.xml: the newest FeedSize jobs of the listing with the
// same search and filters. Item descriptions are the sanitised HTML,
// escaped as XML text as RSS readers expect; the company appears only
// when the job shows it.
func (h *Handler) Feed(c echo.Context) error {
	country := mw.CountryOf(c)
	tax := h.tax(country)
	s := parseSearch(c.Request(), tax)
	s.Query.After = nil
	s.Query.Limit = FeedSize
	lastMod, err := h.lastChange(c, country)
	if err != nil {
		return err
	}
	result, err := h.site.Postings(c.Request().Context(), country, s.Query)
	if err != nil {
		return err
	}
	doc := rss{Version: "2.0", Atom: "http://www.w3.org/2005/Atom", Channel: rssChannel{
		Title:         "Jobs in " + country.Name,
		Link:          country.PublicURL + s.link("/"),
		Self:          atomLink{Href: country.PublicURL + s.link("/feed.xml"), Rel: "self", Type: "application/rss+xml"},
		Description:   "The newest jobs in " + country.Name,
		Language:      "en",
		LastBuildDate: lastMod.UTC().Format(time.RFC1123Z),
		TTL:           int(MaxAge / time.Minute),
	}}
	for i := range result.Postings {
		p := &result.Postings[i]
		title := p.Title + titleSuffix(p.Company)
		doc.Channel.Items = append(doc.Channel.Items, rssItem{
			Title: title, Link: p.PublicLink, GUID: rssGUID{PermaLink: true, Value: p.PublicLink},
			PubDate:     p.PublishedAt.UTC().Format(time.RFC1123Z),
			Description: h.policy.Sanitize(p.Description),
			Category:    jobTypeLabels[p.Extras["job_type"]],
		})
	}
	body, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return atsgate.Internal(err)
	}
	return send(c, http.StatusOK, "application/rss+xml; charset=utf-8", append([]byte(xml.Header), body...), lastMod)
}

type urlset struct {
	XMLName xml.Name     `xml:"urlset"`
	NS      string       `xml:"xmlns,attr"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

type sitemapIndex struct {
	XMLName  xml.Name     `xml:"sitemapindex"`
	NS       string       `xml:"xmlns,attr"`
	Sitemaps []sitemapURL `xml:"sitemap"`
}

const sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

// Sitemap serves /sitemap.xml: the home page and every public job page,
// or, past SitemapPart URLs, an index of /sitemaps/<n>.xml parts.
func (h *Handler) Sitemap(c echo.Context) error {
	country := mw.CountryOf(c)
	lastMod, err := h.lastChange(c, country)
	if err != nil {
		return err
	}
	entries, total, err := h.site.Sitemap(c.Request().Context(), country, 0, h.sitemapPart-1)
	if err != nil {
		return err
	}
	if total+1 <= int64(h.sitemapPart) { // +1: the home page
		return h.sendURLs(c, country, entries, true, lastMod)
	}
	idx := sitemapIndex{NS: sitemapNS}
	parts := (total + int64(h.sitemapPart) - 1) / int64(h.sitemapPart)
	for n := int64(1); n <= parts; n++ {
		idx.Sitemaps = append(idx.Sitemaps, sitemapURL{Loc: fmt.Sprintf("%s/sitemaps/%d.xml", country.PublicURL, n),
			LastMod: lastMod.UTC().Format(time.RFC3339)})
	}
	return h.sendXML(c, idx, lastMod)
}

// SitemapPart serves /sitemaps/<n>.xml, part n (from 1) of the index.
func (h *Handler) SitemapPart(c echo.Context) error {
	country := mw.CountryOf(c)
	raw, ok := trimSuffix(c.Param("part"), ".xml")
	n, err := strconv.Atoi(raw)
	if !ok || err != nil || n < 1 || strconv.Itoa(n) != raw {
		return h.notFound(c, country)
	}
	lastMod, err := h.lastChange(c, country)
	if err != nil {
		return err
	}
	entries, _, err := h.site.Sitemap(c.Request().Context(), country, (n-1)*h.sitemapPart, h.sitemapPart)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return h.notFound(c, country)
	}
	return h.sendURLs(c, country, entries, false, lastMod)
}

func (h *Handler) sendURLs(c echo.Context, country *atsgate.Country, entries []atsgate.SitemapEntry, home bool, lastMod time.Time) error {
	set := urlset{NS: sitemapNS}
	if home {
		set.URLs = append(set.URLs, sitemapURL{Loc: country.PublicURL + "/", LastMod: lastMod.UTC().Format(time.RFC3339)})
	}
	for _, e := range entries {
		set.URLs = append(set.URLs, sitemapURL{Loc: country.PublicURL + e.Path, LastMod: e.LastMod.UTC().Format(time.RFC3339)})
	}
	return h.sendXML(c, set, lastMod)
}

func (h *Handler) sendXML(c echo.Context, doc any, lastMod time.Time) error {
	body, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return atsgate.Internal(err)
	}
	return send(c, http.StatusOK, "application/xml; charset=utf-8", append([]byte(xml.Header), body...), lastMod)
}

func trimSuffix(s, suffix string) (string, bool) {
	if len(s) <= len(suffix) || s[len(s)-len(suffix):] != suffix {
		return "", false
	}
	return s[:len(s)-len(suffix)], true
}

// tax is the country's taxonomy, never nil.
func (h *Handler) tax(country *atsgate.Country) *atsgate.Taxonomy {
	if h.taxonomy != nil {
		if t := h.taxonomy(country.Code); t != nil {
			return t
		}
	}
	return &atsgate.Taxonomy{}
}
