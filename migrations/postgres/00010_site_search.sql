-- +goose Up
-- The public sites' search and filters at a million jobs a country (SPEC
-- sections 6 and 10). Migration 6 indexed an expression, so a plan that
-- walks the newest jobs recomputed to_tsvector for every row it passed,
-- and the filters parsed JSON text per row. Here the document is a stored
-- column, computed once per write, and the filters are lexemes in it, so
-- a search with filters is one GIN lookup.
-- This file's counterpart is sqlite/00010_site_search.sql, where FTS5's
-- job_search gains the same facets; keep the two in step. search_doc is
-- PostgreSQL's only column of its own (migrations/migrate_test.go names
-- it as the one exception to the parity test).
--
-- The document is the text of migration 6 (title, description, the shown
-- company; 'simple', no stemming) plus facet lexemes of weight A:
--   zst<region>  zqu<qualification>  zsp<specialization>
--   zjt<job type>  zwt<workplace type>
-- job and workplace types lower-cased with everything but letters and
-- digits removed (FULL_TIME → zjtfulltime). The text is weight D, so a
-- description that contains "zst3" does not put a job in region 3: the
-- filters query 'zst3:A'. store.facetQuery builds the same lexemes.
-- Adding a stored column rewrites the table: on a large jobs table run
-- this migration in a quiet hour (about a minute per million jobs here).
ALTER TABLE jobs ADD COLUMN search_doc tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', title || ' ' || description || ' ' ||
        CASE WHEN show_company_name THEN coalesce(extras::jsonb ->> 'company_name', '') ELSE '' END)
    || setweight(to_tsvector('simple',
        regexp_replace(states, '([0-9]+)', ' zst\1 ', 'g') || ' ' ||
        regexp_replace(qualifications, '([0-9]+)', ' zqu\1 ', 'g') ||
        ' zsp' || specialization::text ||
        ' zjt' || regexp_replace(lower(coalesce(extras::jsonb ->> 'job_type', '')), '[^a-z0-9]', '', 'g') ||
        ' zwt' || regexp_replace(lower(coalesce(extras::jsonb ->> 'workplace_type', '')), '[^a-z0-9]', '', 'g')), 'A')
) STORED;

CREATE INDEX jobs_site_doc ON jobs USING GIN (search_doc) WHERE state = 'published';
DROP INDEX jobs_site_search;

-- +goose Down
CREATE INDEX jobs_site_search ON jobs USING GIN (
    to_tsvector('simple', title || ' ' || description || ' ' ||
        CASE WHEN show_company_name THEN coalesce(extras::jsonb ->> 'company_name', '') ELSE '' END)
) WHERE state = 'published';
DROP INDEX jobs_site_doc;
ALTER TABLE jobs DROP COLUMN search_doc;
