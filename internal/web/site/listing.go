package site

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// search is a listing's request as understood: the query for the store,
// the parameters to keep in every link, and a note for each value that was
// ignored.
type search struct {
	Query   atsgate.SiteQuery
	Q       string
	Params  url.Values // the accepted q and filters, without the cursor
	Ignored []string
}

// option is one choice of a filter's select.
type option struct {
	Value, Label string
	Selected     bool
}

// filter is one of the listing's selects.
type filter struct {
	Name, Label string
	Options     []option
	HTML        template.HTML // Options rendered; see Handler.options
}

// Labels of the job and workplace types, in atsgate.JobTypes and
// atsgate.WorkplaceTypes order.
var (
	jobTypeLabels = map[string]string{"FULL_TIME": "Full time", "PART_TIME": "Part time", "CONTRACT": "Contract",
		"INTERNSHIP": "Internship", "FACULTY": "Faculty", "TEMPORARY": "Temporary"}
	workplaceLabels = map[string]string{"ON_SITE": "On site", "REMOTE": "Remote", "HYBRID": "Hybrid"}
)

// parseSearch reads ?q= and the filters against the country's taxonomy.
// A value that is not one of the taxonomy's is dropped with a note for the
// visitor rather than refused: a shared or outdated link still shows jobs.
func parseSearch(r *http.Request, tax *atsgate.Taxonomy) search {
	v := r.URL.Query()
	s := search{Params: url.Values{}}
	if q := strings.TrimSpace(v.Get("q")); q != "" {
		s.Q = q
		s.Query.Terms = atsgate.SearchTerms(q)
		s.Params.Set("q", q)
	}
	term := func(name, label string, known func(int64) bool, dst *int64) {
		raw := strings.TrimSpace(v.Get(name))
		if raw == "" {
			return
		}
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || !known(id) {
			s.Ignored = append(s.Ignored, fmt.Sprintf("Unknown %s %q was ignored.", label, raw))
			return
		}
		*dst = id
		s.Params.Set(name, raw)
	}
	term("state", "region", tax.HasState, &s.Query.State)
	term("specialization", "specialization", tax.HasSpecialization, &s.Query.Specialization)
	term("qualification", "qualification", tax.HasQualification, &s.Query.Qualification)
	enum := func(name, label string, labels map[string]string, dst *string) {
		raw := strings.TrimSpace(v.Get(name))
		if raw == "" {
			return
		}
		val := atsgate.NormalizeEnum(raw)
		if _, ok := labels[val]; !ok {
			s.Ignored = append(s.Ignored, fmt.Sprintf("Unknown %s %q was ignored.", label, raw))
			return
		}
		*dst = val
		s.Params.Set(name, val)
	}
	enum("job_type", "job type", jobTypeLabels, &s.Query.JobType)
	enum("workplace_type", "workplace type", workplaceLabels, &s.Query.WorkplaceType)
	if after := v.Get("after"); after != "" {
		if cur, ok := atsgate.ParseSiteCursor(after); ok {
			s.Query.After = &cur
		} else {
			s.Ignored = append(s.Ignored, "That page link is not valid; here is the first page.")
		}
	}
	return s
}

// filters builds the selects, marking the current choices.
func (s *search) filters(tax *atsgate.Taxonomy) []filter {
	terms := func(name, label, any string, list []atsgate.Term, cur int64) filter {
		f := filter{Name: name, Label: label, Options: []option{{Value: "", Label: any}}}
		for _, t := range list {
			f.Options = append(f.Options, option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name, Selected: t.ID == cur})
		}
		return f
	}
	enum := func(name, label, any string, values []string, labels map[string]string, cur string) filter {
		f := filter{Name: name, Label: label, Options: []option{{Value: "", Label: any}}}
		for _, v := range values {
			f.Options = append(f.Options, option{Value: v, Label: labels[v], Selected: v == cur})
		}
		return f
	}
	var states, specs, quals []atsgate.Term
	if tax != nil {
		states, specs, quals = tax.States, tax.Specializations, tax.Qualifications
	}
	return []filter{
		terms("state", "Region", "All regions", states, s.Query.State),
		terms("specialization", "Specialization", "All specializations", specs, s.Query.Specialization),
		terms("qualification", "Qualification", "Any qualification", quals, s.Query.Qualification),
		enum("job_type", "Job type", "Any job type", atsgate.JobTypes, jobTypeLabels, s.Query.JobType),
		enum("workplace_type", "Workplace", "Any workplace", atsgate.WorkplaceTypes, workplaceLabels, s.Query.WorkplaceType),
	}
}

// link is the listing URL with the search's parameters plus extra.
func (s *search) link(path string, extra ...string) string {
	v := url.Values{}
	for k, vals := range s.Params {
		v[k] = vals
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// card is one job of the listing.
type card struct {
	Title, Path, Company, Location, Posted, Deadline, Salary, JobType string
}

// listingContent is the listing page's own data.
type listingContent struct {
	Q        string
	Filters  []filter
	Ignored  []string
	Jobs     []card
	Next     string // "" on the last page
	First    string // "" on the first page
	Searched bool
}

// Listing serves "/": the country's published jobs, newest first.
func (h *Handler) Listing(c echo.Context) error {
	country := mw.CountryOf(c)
	tax := h.tax(country)
	s := parseSearch(c.Request(), tax)
	s.Query.Limit = PageSize
	ctx := c.Request().Context()
	lastMod, err := h.lastChange(c, country)
	if err != nil {
		return err
	}
	result, err := h.site.Postings(ctx, country, s.Query)
	if err != nil {
		return err
	}
	content := listingContent{Q: s.Q, Filters: s.filters(tax), Ignored: s.Ignored, Searched: len(s.Params) > 0}
	for i := range content.Filters {
		if content.Filters[i].HTML, err = h.options(country.Code, &content.Filters[i]); err != nil {
			return err
		}
	}
	for i := range result.Postings {
		content.Jobs = append(content.Jobs, h.card(country, tax, &result.Postings[i]))
	}
	if result.Next != nil {
		content.Next = s.link("/", "after", result.Next.String())
	}
	if s.Query.After != nil {
		content.First = s.link("/")
	}
	title := "Jobs in " + country.Name
	if s.Q != "" {
		title = fmt.Sprintf("%q jobs in %s", s.Q, country.Name)
	}
	p := page{Country: country, Title: title, Content: content, FeedURL: s.link("/feed.xml"),
		Description: fmt.Sprintf("The latest jobs in %s: search and filter by region, specialization, qualification and job type.", country.Name)}
	if len(s.Params) == 0 && s.Query.After == nil {
		p.Canonical = country.PublicURL + "/"
	} else {
		// Searches and deep pages are for visitors; the job pages and the
		// sitemap are what search engines should index.
		p.Robots = "noindex, follow"
	}
	body, err := h.render("listing", p)
	if err != nil {
		return err
	}
	return send(c, http.StatusOK, "text/html; charset=utf-8", body, lastMod)
}

// card summarises a posting for the listing.
func (h *Handler) card(country *atsgate.Country, tax *atsgate.Taxonomy, p *atsgate.Posting) card {
	out := card{Title: p.Title, Path: pathOf(country, &p.Job), Company: p.Company, Location: location(country, tax, &p.Job),
		Posted: dateOf(country.Local(p.PublishedAt)), JobType: jobTypeLabels[p.Extras["job_type"]]}
	if d, err := time.Parse(atsgate.DateLayout, p.Deadline); err == nil {
		out.Deadline = dateOf(d)
	}
	if p.Salary > 0 {
		out.Salary = atsgate.FormatSalary(p.Salary, country.Currency)
	}
	return out
}

// pathOf is the job's page on this site: its public link without the
// country's URL, so links stay on the host the visitor used.
func pathOf(country *atsgate.Country, j *atsgate.Job) string {
	if p, ok := strings.CutPrefix(j.PublicLink, country.PublicURL); ok && p != "" {
		return p
	}
	return atsgate.PublicPath(j.ID, j.Title)
}

// location names where the job is: the city, the regions, or remote.
func location(country *atsgate.Country, tax *atsgate.Taxonomy, j *atsgate.Job) string {
	var parts []string
	if city := j.Extras["location_city"]; city != "" {
		parts = append(parts, city)
	}
	parts = append(parts, regionNames(tax, j.States)...)
	where := strings.Join(parts, ", ")
	switch j.Extras["workplace_type"] {
	case "REMOTE":
		if where == "" {
			return "Remote (" + country.Name + ")"
		}
		return "Remote · " + where
	case "HYBRID":
		if where != "" {
			return "Hybrid · " + where
		}
	}
	if where == "" {
		return country.Name
	}
	return where
}

func regionNames(tax *atsgate.Taxonomy, ids []int64) []string {
	if tax == nil {
		return nil
	}
	var out []string
	for _, id := range ids {
		for _, t := range tax.States {
			if t.ID == id {
				out = append(out, t.Name)
			}
		}
	}
	return out
}

func dateOf(t time.Time) string { return t.Format("2 January 2006") }

// options renders a filter's options. They depend only on the country's
// taxonomy, which is fixed for the life of the process, and on the choice,
// which is one of the taxonomy's values (parseSearch drops any other): a
// few hundred renderings at most, each kept, where rendering the five
// selects' seventy-odd options through the template on every request was
// most of the listing's rendering time.
func (h *Handler) options(country string, f *filter) (template.HTML, error) {
	var chosen string
	for _, o := range f.Options {
		if o.Selected {
			chosen = o.Value
		}
	}
	key := country + "\x00" + f.Name + "\x00" + chosen
	if v, ok := h.optionsHTML.Load(key); ok {
		return v.(template.HTML), nil
	}
	var b strings.Builder
	if err := h.pages["listing"].ExecuteTemplate(&b, "options", f.Options); err != nil {
		return "", atsgate.Internal(err)
	}
	out := template.HTML(b.String()) //nolint:gosec // the output of html/template
	h.optionsHTML.Store(key, out)
	return out, nil
}
