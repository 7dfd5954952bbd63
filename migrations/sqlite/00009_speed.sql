-- +goose Up
-- The hot path (issue 11, SPEC section 10).
-- This file mirrors postgres/00009_speed.sql; keep the two in step.

-- An employer's jobs list, newest first, read from the index alone
-- (SQLite has no INCLUDE, so the shown columns are trailing keys): see
-- the PostgreSQL file. Archived jobs (ERP) are not listed, so not indexed.
CREATE INDEX jobs_employer_list ON jobs (employer_id, id DESC, country_id, external_id, dialect, state, title,
    deadline, amount_charged_minor, public_path, received_at, updated_at, published_at, closed_at,
    disapproved_at, disapproval_reason, pending_edit, archived_at)
    WHERE archived_at IS NULL;

-- PostgreSQL's file also installs atsgate_create_job, a create in one
-- round trip; SQLite runs in process, where a round trip costs nothing,
-- and keeps the transaction form.

-- +goose Down
DROP INDEX jobs_employer_list;
