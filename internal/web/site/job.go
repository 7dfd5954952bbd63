package site

import (
	"encoding/json"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// jobContent is the job page's own data.
type jobContent struct {
	card
	Description template.HTML // sanitised by the one policy
	ApplyURL    string        // apply_url, else mailto: apply_email; "" for neither
	ApplyLabel  string
	Experience  string
	Details     []detail
	JSONLD      template.JS // JobPosting, HTML-safe JSON
}

// detail is one line of the job's facts.
type detail struct{ Label, Value string }

// gone is the 410 page's data.
type goneContent struct{ Title string }

// Job serves a job page at its public path. The answers follow SPEC
// section 6: a public job is 200 at its current path and 301 from any
// other slug; an ended or disapproved job is 410; a pending job, an
// unknown ID and another country's job get the same 404, so the answer
// tells nothing about jobs that were never public here.
func (h *Handler) Job(c echo.Context) error {
	country := mw.CountryOf(c)
	id, _, ok := atsgate.ParsePublicPath(c.Request().URL.Path)
	if !ok {
		return h.notFound(c, country)
	}
	p, err := h.site.Posting(c.Request().Context(), country, id)
	if atsgate.ErrorCode(err) == atsgate.ENOTFOUND {
		return h.notFound(c, country)
	}
	if err != nil {
		return err
	}
	now := h.now()
	switch {
	case p.Job.Gone(country, now):
		return h.gone(c, country, p)
	case !p.Job.Public(country, now):
		return h.notFound(c, country)
	}
	if path := pathOf(country, &p.Job); c.Request().URL.Path != path {
		c.Response().Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(MaxAge/time.Second)))
		return c.Redirect(http.StatusMovedPermanently, path)
	}
	tax := h.tax(country)
	content := jobContent{card: h.card(country, tax, p),
		Description: template.HTML(h.policy.Sanitize(p.Description))} //nolint:gosec // sanitised just now
	switch {
	case atsgate.IsWebURL(p.ApplyURL):
		content.ApplyURL, content.ApplyLabel = p.ApplyURL, "Apply on the employer's site"
	case p.ApplyEmail != "":
		content.ApplyURL, content.ApplyLabel = "mailto:"+url.PathEscape(p.ApplyEmail), "Apply by email"
	}
	if p.MinExperience > 0 || p.MaxExperience > 0 {
		content.Experience = experience(p.MinExperience, p.MaxExperience)
	}
	add := func(label, value string) {
		if value != "" {
			content.Details = append(content.Details, detail{label, value})
		}
	}
	add("Company", p.Company)
	add("Location", content.Location)
	add("Job type", content.JobType)
	add("Salary", content.Salary)
	add("Experience", content.Experience)
	add("Qualification", strings.Join(termNames(tax.Qualifications, p.Qualifications), ", "))
	add("Specialization", strings.Join(termNames(tax.Specializations, []int64{p.Specialization}), ", "))
	add("Posted", content.Posted)
	add("Apply by", content.Deadline)
	ld, err := json.Marshal(JobPosting(country, tax, p, h.policy.Sanitize(p.Description)))
	if err != nil {
		return atsgate.Internal(err)
	}
	content.JSONLD = template.JS(ld) //nolint:gosec // json.Marshal escapes <, > and &, so no </script> survives
	body, err := h.render("job", page{Country: country, Title: p.Title + titleSuffix(p.Company), Content: content,
		Canonical: p.PublicLink, Description: h.summary(p)})
	if err != nil {
		return err
	}
	lastMod := p.UpdatedAt
	if p.PublishedAt.After(lastMod) {
		lastMod = p.PublishedAt
	}
	return send(c, http.StatusOK, "text/html; charset=utf-8", body, lastMod)
}

func titleSuffix(company string) string {
	if company == "" {
		return ""
	}
	return " at " + company
}

// summary is the meta description: the description's text, cut at a word
// near 160 characters.
func (h *Handler) summary(p *atsgate.Posting) string {
	text := strings.Join(strings.Fields(html.UnescapeString(h.text.Sanitize(p.Description))), " ")
	if utf8.RuneCountInString(text) <= 160 {
		return text
	}
	r := []rune(text)[:157]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > 100 {
		cut = cut[:i]
	}
	return cut + "…"
}

func experience(lo, hi int64) string {
	switch {
	case hi > lo && lo > 0:
		return strconv.FormatInt(lo, 10) + "–" + strconv.FormatInt(hi, 10) + " years"
	case hi > 0 && lo == 0:
		return "up to " + strconv.FormatInt(hi, 10) + " years"
	default:
		return strconv.FormatInt(lo, 10) + "+ years"
	}
}

func termNames(list []atsgate.Term, ids []int64) []string {
	var out []string
	for _, id := range ids {
		for _, t := range list {
			if t.ID == id && id > 0 {
				out = append(out, t.Name)
			}
		}
	}
	return out
}

// notFound is the one 404 page of the site.
func (h *Handler) notFound(c echo.Context, country *atsgate.Country) error {
	body, err := h.render("notfound", page{Country: country, Title: "Page not found", Robots: "noindex"})
	if err != nil {
		return err
	}
	return send(c, http.StatusNotFound, "text/html; charset=utf-8", body, time.Time{})
}

// gone is the 410 page: the job existed and is no longer open. Its title
// is shown, never its company or text.
func (h *Handler) gone(c echo.Context, country *atsgate.Country, p *atsgate.Posting) error {
	title := p.Title
	if p.State == atsgate.StateDisapproved {
		title = "" // never public: nothing of it is shown
	}
	body, err := h.render("gone", page{Country: country, Title: "This job is no longer open", Robots: "noindex",
		Content: goneContent{Title: title}})
	if err != nil {
		return err
	}
	return send(c, http.StatusGone, "text/html; charset=utf-8", body, time.Time{})
}
