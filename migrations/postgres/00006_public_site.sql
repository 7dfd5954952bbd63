-- +goose Up
-- The public country sites (SPEC section 6): the listing's order, its
-- full-text search, and the change clock behind Last-Modified.
-- This file mirrors sqlite/00006_public_site.sql; keep the two in step.

-- Newest first among a country's published jobs, keyset-paginated on
-- (published_at, id).
CREATE INDEX jobs_site_newest ON jobs (country_id, published_at DESC, id DESC) WHERE state = 'published';

-- Search over title, description and the company name the job shows.
-- An expression index, not a stored column, so the two migration trees keep
-- one set of columns; being an index it is in step with every insert and
-- update (create, update, approval, closing, expiry) with no trigger. A job
-- that hides its company keeps the name out of the index, so a search
-- cannot reveal who posted it. 'simple' does no stemming: the sites carry
-- English, French, Swahili and Pidgin text, and SQLite's unicode61 does
-- none either, so both databases find the same words. The employer's
-- own name (used when a job names no company) is matched through the
-- employers table at query time, so renaming an employer needs no reindex.
CREATE INDEX jobs_site_search ON jobs USING GIN (
    to_tsvector('simple', title || ' ' || description || ' ' ||
        CASE WHEN show_company_name THEN coalesce(extras::jsonb ->> 'company_name', '') ELSE '' END)
) WHERE state = 'published';
CREATE INDEX employers_site_search ON employers USING GIN (to_tsvector('simple', name));

-- The country's last change, for Last-Modified on the listing, sitemap and
-- feed: every transition and update sets updated_at.
CREATE INDEX jobs_country_updated ON jobs (country_id, updated_at);

-- +goose Down
DROP INDEX jobs_country_updated;
DROP INDEX employers_site_search;
DROP INDEX jobs_site_search;
DROP INDEX jobs_site_newest;
