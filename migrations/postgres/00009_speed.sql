-- +goose Up
-- The hot path (issue 11, SPEC section 10).
-- This file mirrors sqlite/00009_speed.sql; keep the two in step.

-- An employer's jobs list, newest first, read from the index alone: the
-- keys are the list's order and the included columns are what a job
-- record shows (store.recordColumns), so a page is one index range scan
-- with no visit to the table, where each row also carries its description
-- (up to 512 KiB). It replaces jobs_employer_newest, which had the same
-- keys and served the same queries.
CREATE INDEX jobs_employer_list ON jobs (employer_id, id DESC)
    INCLUDE (country_id, external_id, dialect, state, title, deadline, amount_charged_minor, public_path,
             received_at, updated_at, published_at, closed_at, disapproved_at, disapproval_reason, pending_edit);
DROP INDEX jobs_employer_newest;

-- +goose Down
CREATE INDEX jobs_employer_newest ON jobs (employer_id, id DESC);
DROP INDEX jobs_employer_list;
