-- +goose Up
-- The public country sites (SPEC section 6): the listing's order, its
-- full-text search, and the change clock behind Last-Modified.
-- This file mirrors postgres/00006_public_site.sql; keep the two in step.

-- Newest first among a country's published jobs, keyset-paginated on
-- (published_at, id).
CREATE INDEX jobs_site_newest ON jobs (country_id, published_at DESC, id DESC) WHERE state = 'published';

-- Search over title, description and company: an FTS5 table holding the
-- published jobs only (rowid = jobs.id), kept in step by the triggers below
-- with every insert and update of a job (create, update, approval, closing,
-- expiry) and every rename of an employer. The company column is empty
-- when a job hides its company, so a search cannot reveal who posted it.
-- unicode61 does no stemming, like PostgreSQL's 'simple' configuration.
CREATE VIRTUAL TABLE job_search USING fts5 (
    title, description, company,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER job_search_insert AFTER INSERT ON jobs WHEN new.state = 'published'
BEGIN
    INSERT INTO job_search (rowid, title, description, company)
    VALUES (new.id, new.title, new.description,
        CASE WHEN new.show_company_name THEN coalesce(nullif(json_extract(new.extras, '$.company_name'), ''),
            (SELECT name FROM employers WHERE id = new.employer_id)) ELSE '' END);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER job_search_update AFTER UPDATE ON jobs
BEGIN
    DELETE FROM job_search WHERE rowid = old.id;
    INSERT INTO job_search (rowid, title, description, company)
    SELECT new.id, new.title, new.description,
        CASE WHEN new.show_company_name THEN coalesce(nullif(json_extract(new.extras, '$.company_name'), ''),
            (SELECT name FROM employers WHERE id = new.employer_id)) ELSE '' END
    WHERE new.state = 'published';
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER job_search_delete AFTER DELETE ON jobs
BEGIN
    DELETE FROM job_search WHERE rowid = old.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER job_search_employer AFTER UPDATE OF name ON employers
BEGIN
    UPDATE job_search SET company = new.name
    WHERE rowid IN (SELECT id FROM jobs WHERE employer_id = new.id AND state = 'published' AND show_company_name
        AND coalesce(json_extract(extras, '$.company_name'), '') = '');
END;
-- +goose StatementEnd

-- The country's last change, for Last-Modified on the listing, sitemap and
-- feed: every transition and update sets updated_at.
CREATE INDEX jobs_country_updated ON jobs (country_id, updated_at);

-- +goose Down
DROP INDEX jobs_country_updated;
DROP TRIGGER job_search_employer;
DROP TRIGGER job_search_delete;
DROP TRIGGER job_search_update;
DROP TRIGGER job_search_insert;
DROP TABLE job_search;
DROP INDEX jobs_site_newest;
