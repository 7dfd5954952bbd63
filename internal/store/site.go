package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// postingRow is a job with its employer's name, as the site queries read it.
type postingRow struct {
	Job          jobRow `gorm:"embedded"`
	EmployerName string
}

// posting converts a row, leaving the company empty when the job hides it.
func (r *postingRow) posting(c *atsgate.Country) atsgate.Posting {
	p := atsgate.Posting{Job: *jobFromRow(&r.Job, c.PublicURL)}
	if p.ShowCompanyName {
		p.Company = p.Extras["company_name"]
		if p.Company == "" {
			p.Company = r.EmployerName
		}
	}
	return p
}

// The columns every site query reads. The state is a literal, not a
// parameter, so PostgreSQL can match the partial indexes of migration 6.
const (
	postingColumns = `SELECT jobs.*, employers.name AS employer_name FROM jobs JOIN employers ON employers.id = jobs.employer_id `
	publicJobs     = `jobs.country_id = ? AND jobs.state = 'published' AND (jobs.deadline = '' OR jobs.deadline >= ?)`
	// pgSearchDocument must stay the expression of the index jobs_site_search.
	pgSearchDocument = `to_tsvector('simple', jobs.title || ' ' || jobs.description || ' ' ||
        CASE WHEN jobs.show_company_name THEN coalesce(jobs.extras::jsonb ->> 'company_name', '') ELSE '' END)`
)

// Postings implements atsgate.Site.
func (s *Store) Postings(ctx context.Context, c *atsgate.Country, q atsgate.SiteQuery) (*atsgate.SitePage, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	where := []string{publicJobs}
	args := []any{c.ID, c.Today(s.now())}
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if q.After != nil {
		// A row comparison, which both databases turn into one range of
		// the (published_at, id) index; the equivalent OR is a filter.
		add(`(jobs.published_at, jobs.id) < (?, ?)`, q.After.PublishedAt.UTC(), q.After.ID)
	}
	if len(q.Terms) > 0 {
		filtered := q.State > 0 || q.Specialization > 0 || q.Qualification > 0 || q.JobType != "" || q.WorkplaceType != ""
		if err := s.searchCondition(ctx, c, q.Terms, filtered, add); err != nil {
			return nil, err
		}
	}
	if q.Specialization > 0 {
		add(`jobs.specialization = ?`, q.Specialization)
	}
	for _, f := range []struct {
		column string
		id     int64
	}{{"states", q.State}, {"qualifications", q.Qualification}} {
		if f.id <= 0 {
			continue
		}
		if s.dialect == Postgres {
			add(`jobs.`+f.column+`::jsonb @> ?::jsonb`, "["+strconv.FormatInt(f.id, 10)+"]")
		} else {
			add(`EXISTS (SELECT 1 FROM json_each(jobs.`+f.column+`) WHERE json_each.value = ?)`, f.id)
		}
	}
	for _, f := range []struct{ key, value string }{{"job_type", q.JobType}, {"workplace_type", q.WorkplaceType}} {
		if f.value == "" {
			continue
		}
		if s.dialect == Postgres {
			add(`jobs.extras::jsonb ->> '`+f.key+`' = ?`, f.value)
		} else {
			add(`json_extract(jobs.extras, '$.`+f.key+`') = ?`, f.value)
		}
	}
	sql := postingColumns + "WHERE " + strings.Join(where, " AND ") +
		" ORDER BY jobs.published_at DESC, jobs.id DESC LIMIT ?"
	args = append(args, limit+1)
	var rows []postingRow
	if err := s.rdb.WithContext(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list public jobs")
	}
	page := &atsgate.SitePage{}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		page.Next = &atsgate.SiteCursor{PublishedAt: timeOrZero(last.Job.PublishedAt), ID: last.Job.ID}
	}
	page.Postings = make([]atsgate.Posting, len(rows))
	for i := range rows {
		page.Postings[i] = rows[i].posting(c)
	}
	return page, nil
}

// searchCondition adds the full-text condition: every term must match the
// job's title, description or shown company.
func (s *Store) searchCondition(ctx context.Context, c *atsgate.Country, terms []string, filtered bool, add func(string, ...any)) error {
	if s.dialect == SQLite {
		// The terms are letters and digits only (atsgate.SearchTerms), so
		// quoting each makes a phrase of one word and no FTS5 syntax.
		match := `"` + strings.Join(terms, `" "`) + `"`
		// As on PostgreSQL (below): few matches are fetched and sorted;
		// many are found by walking the newest jobs and asking FTS5 about
		// each, which stops at the page's end.
		var n int64
		err := s.rdb.WithContext(ctx).Raw(`SELECT count(*) FROM (SELECT rowid FROM job_search WHERE job_search MATCH ? LIMIT `+
			strconv.Itoa(s.rare())+`)`, match).Scan(&n).Error
		if err != nil {
			return translate(err, "search probe")
		}
		// With filters as well, matching jobs are sparse among the newest
		// and each FTS5 lookup reads the word's whole list, so the walk
		// loses (measured: seconds against tens of milliseconds).
		if n < int64(s.rare()) || filtered {
			add(`jobs.id IN (SELECT rowid FROM job_search WHERE job_search MATCH ?)`, match)
		} else {
			add(`EXISTS (SELECT 1 FROM job_search WHERE job_search MATCH ? AND job_search.rowid = jobs.id)`, match)
		}
		return nil
	}
	conds := make([]string, 0, len(terms))
	var condArgs []any
	for _, term := range terms {
		// A job that names no company is shown under its employer's name,
		// which lives in employers: find the few employers a term names
		// first, so the jobs side stays one GIN lookup per term.
		var ids []int64
		err := s.rdb.WithContext(ctx).Raw(`SELECT id FROM employers WHERE country_id = ? AND to_tsvector('simple', name) @@ plainto_tsquery('simple', ?)`,
			c.ID, term).Scan(&ids).Error
		if err != nil {
			return translate(err, "search employers")
		}
		cond := pgSearchDocument + ` @@ plainto_tsquery('simple', ?)`
		args := []any{term}
		if len(ids) > 0 {
			cond = `(` + cond + ` OR (jobs.show_company_name AND coalesce(jobs.extras::jsonb ->> 'company_name', '') = '' AND jobs.employer_id IN ?))`
			args = append(args, ids)
		}
		conds = append(conds, cond)
		condArgs = append(condArgs, args...)
	}
	match := strings.Join(conds, " AND ")
	// The planner picks between two plans: walk the newest-first index and
	// test each job, which is fast when many jobs match and ruinous when
	// few do (the expression is recomputed for every row it passes), or
	// take the GIN matches and sort them, the reverse. Its estimate of a
	// word's frequency is often wrong, so ask the data: a probe that stops
	// at RareMatches. When fewer match, the GIN side is fenced off (OFFSET
	// 0 keeps the subquery from being pulled up) so it must be used.
	var n int64
	probe := `SELECT count(*) FROM (SELECT 1 FROM jobs WHERE jobs.country_id = ? AND jobs.state = 'published' AND ` +
		match + ` LIMIT ` + strconv.Itoa(s.rare()) + `) AS probe`
	if err := s.rdb.WithContext(ctx).Raw(probe, append([]any{c.ID}, condArgs...)...).Scan(&n).Error; err != nil {
		return translate(err, "search probe")
	}
	if n < int64(s.rare()) {
		add(`jobs.id IN (SELECT jobs.id FROM jobs WHERE jobs.country_id = ? AND jobs.state = 'published' AND `+match+` OFFSET 0)`,
			append([]any{c.ID}, condArgs...)...)
		return nil
	}
	add(match, condArgs...)
	return nil
}

// RareMatches is where a search stops counting as rare: below it, sorting
// the matches costs less than walking the newest jobs to find them.
const RareMatches = 2000

// WithRareMatches sets where a search stops counting as rare
// (RareMatches unless set), so tests reach both search plans with few jobs.
func WithRareMatches(n int) Option { return func(s *Store) { s.rareMatches = n } }

// rare is the store's RareMatches.
func (s *Store) rare() int {
	if s.rareMatches > 0 {
		return s.rareMatches
	}
	return RareMatches
}

// Posting implements atsgate.Site.
func (s *Store) Posting(ctx context.Context, c *atsgate.Country, id int64) (*atsgate.Posting, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []postingRow
	err := s.rdb.WithContext(ctx).Raw(postingColumns+`WHERE jobs.id = ? AND jobs.country_id = ?`, id, c.ID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "public job")
	}
	if len(rows) == 0 {
		return nil, atsgate.Errorf(atsgate.ENOTFOUND, "job %d not found", id)
	}
	p := rows[0].posting(c)
	return &p, nil
}

// Sitemap implements atsgate.Site. A sitemap part is read by offset: parts
// are fetched by crawlers, rarely, and a part's first ID cannot be known
// without counting to it anyway.
func (s *Store) Sitemap(ctx context.Context, c *atsgate.Country, offset, limit int) ([]atsgate.SitemapEntry, int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	today := c.Today(s.now())
	var total int64
	if err := s.rdb.WithContext(ctx).Raw(`SELECT count(*) FROM jobs WHERE `+publicJobs, c.ID, today).Scan(&total).Error; err != nil {
		return nil, 0, translate(err, "count public jobs")
	}
	var rows []struct {
		ID         int64
		PublicPath string
		UpdatedAt  time.Time
	}
	err := s.rdb.WithContext(ctx).Raw(`SELECT jobs.id, jobs.public_path, jobs.updated_at FROM jobs WHERE `+publicJobs+
		` ORDER BY jobs.id LIMIT ? OFFSET ?`, c.ID, today, limit, offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, translate(err, "sitemap")
	}
	out := make([]atsgate.SitemapEntry, len(rows))
	for i, r := range rows {
		out[i] = atsgate.SitemapEntry{ID: r.ID, Path: r.PublicPath, LastMod: r.UpdatedAt.UTC()}
	}
	return out, total, nil
}

// SiteChanged implements atsgate.Site, through the index on (country_id,
// updated_at). Pending jobs count too: a spurious change only costs a
// cache a refetch.
func (s *Store) SiteChanged(ctx context.Context, c *atsgate.Country) (time.Time, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var at []time.Time
	err := s.rdb.WithContext(ctx).Raw(`SELECT updated_at FROM jobs WHERE country_id = ? ORDER BY updated_at DESC LIMIT 1`, c.ID).
		Scan(&at).Error
	if err != nil {
		return time.Time{}, translate(err, "site change time")
	}
	if len(at) == 0 {
		return c.CreatedAt.UTC(), nil
	}
	return at[0].UTC(), nil
}

var _ atsgate.Site = (*Store)(nil)
