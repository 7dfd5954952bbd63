-- +goose Up
-- The public sites' filters at a million jobs a country (SPEC sections 6
-- and 10): FTS5's job_search gains a facets column, so a search with
-- filters, or filters alone, is one MATCH instead of parsing the JSON of
-- every job walked. Counterpart of postgres/00010_site_search.sql, which
-- puts the same lexemes in the stored tsvector jobs.search_doc; keep the
-- two in step (store.facetQuery builds the query for both):
--   zst<region>  zqu<qualification>  zsp<specialization>
--   zjt<job type>  zwt<workplace type>
-- job and workplace types lower-cased without underscores
-- (FULL_TIME → zjtfulltime). Filters query the facets column only
-- ("facets : zst3"), so a description that contains "zst3" does not put a
-- job in region 3. The table, its triggers and its rows are rebuilt.
DROP TRIGGER job_search_employer;
DROP TRIGGER job_search_delete;
DROP TRIGGER job_search_update;
DROP TRIGGER job_search_insert;
DROP TABLE job_search;

CREATE VIRTUAL TABLE job_search USING fts5 (
    title, description, company, facets,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO job_search (rowid, title, description, company, facets)
SELECT jobs.id, jobs.title, jobs.description,
        CASE WHEN jobs.show_company_name THEN coalesce(nullif(json_extract(jobs.extras, '$.company_name'), ''),
            (SELECT name FROM employers WHERE id = jobs.employer_id)) ELSE '' END,
        trim(coalesce((SELECT group_concat('zst' || value, ' ') FROM json_each(jobs.states)), '') || ' ' ||
            coalesce((SELECT group_concat('zqu' || value, ' ') FROM json_each(jobs.qualifications)), '') ||
            ' zsp' || jobs.specialization ||
            ' zjt' || lower(replace(coalesce(json_extract(jobs.extras, '$.job_type'), ''), '_', '')) ||
            ' zwt' || lower(replace(coalesce(json_extract(jobs.extras, '$.workplace_type'), ''), '_', '')))
FROM jobs WHERE jobs.state = 'published';

-- +goose StatementBegin
CREATE TRIGGER job_search_insert AFTER INSERT ON jobs WHEN new.state = 'published'
BEGIN
    INSERT INTO job_search (rowid, title, description, company, facets)
    VALUES (new.id, new.title, new.description,
        CASE WHEN new.show_company_name THEN coalesce(nullif(json_extract(new.extras, '$.company_name'), ''),
            (SELECT name FROM employers WHERE id = new.employer_id)) ELSE '' END,
        trim(coalesce((SELECT group_concat('zst' || value, ' ') FROM json_each(new.states)), '') || ' ' ||
            coalesce((SELECT group_concat('zqu' || value, ' ') FROM json_each(new.qualifications)), '') ||
            ' zsp' || new.specialization ||
            ' zjt' || lower(replace(coalesce(json_extract(new.extras, '$.job_type'), ''), '_', '')) ||
            ' zwt' || lower(replace(coalesce(json_extract(new.extras, '$.workplace_type'), ''), '_', ''))));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER job_search_update AFTER UPDATE ON jobs
BEGIN
    DELETE FROM job_search WHERE rowid = old.id;
    INSERT INTO job_search (rowid, title, description, company, facets)
    SELECT new.id, new.title, new.description,
        CASE WHEN new.show_company_name THEN coalesce(nullif(json_extract(new.extras, '$.company_name'), ''),
            (SELECT name FROM employers WHERE id = new.employer_id)) ELSE '' END,
        trim(coalesce((SELECT group_concat('zst' || value, ' ') FROM json_each(new.states)), '') || ' ' ||
            coalesce((SELECT group_concat('zqu' || value, ' ') FROM json_each(new.qualifications)), '') ||
            ' zsp' || new.specialization ||
            ' zjt' || lower(replace(coalesce(json_extract(new.extras, '$.job_type'), ''), '_', '')) ||
            ' zwt' || lower(replace(coalesce(json_extract(new.extras, '$.workplace_type'), ''), '_', '')))
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

-- +goose Down
-- The facets column stays: migration 6's triggers fill the other three.
SELECT 1;
