-- +goose Up
-- Reviewed edits of published jobs (SPEC section 3). An update that would
-- change what visitors see of a published job of an employer without
-- auto-publish is kept here until a reviewer approves or disapproves it;
-- the job row keeps the approved content meanwhile. Each proposal is its
-- own row, so what was proposed, replaced, approved or refused stays on
-- record.
-- This file is mirrored by sqlite/00005_job_edits.sql; keep the two in step.

CREATE TABLE job_edits (
    id         BIGSERIAL PRIMARY KEY,
    job_id     BIGINT      NOT NULL REFERENCES jobs (id),
    status     VARCHAR(16) NOT NULL CHECK (status IN ('pending', 'approved', 'disapproved', 'replaced', 'discarded')),
    -- content is the job's whole visible content as proposed (JSON);
    -- fields names those that differ from the live content when proposed.
    content    TEXT        NOT NULL,
    fields     TEXT        NOT NULL DEFAULT '[]',
    actor      TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    decided_by TEXT        NOT NULL DEFAULT '',
    decided_at TIMESTAMPTZ NULL,
    reason     TEXT        NOT NULL DEFAULT ''
);
-- A job has at most one pending edit: the database guarantees it.
CREATE UNIQUE INDEX job_edits_one_pending ON job_edits (job_id) WHERE status = 'pending';
CREATE INDEX job_edits_queue ON job_edits (id) WHERE status = 'pending';
CREATE INDEX job_edits_job ON job_edits (job_id, id);

-- pending_edit mirrors "this job has a pending job_edits row", written in
-- the same transaction, so the ATS record and lists need no join.
ALTER TABLE jobs ADD COLUMN pending_edit BOOLEAN NOT NULL DEFAULT FALSE;

-- Job events also record edits: edit names the step ('' for a state
-- transition), fields the changed fields as a JSON array.
ALTER TABLE job_events ADD COLUMN edit VARCHAR(16) NOT NULL DEFAULT '';
ALTER TABLE job_events ADD COLUMN fields TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE job_events DROP COLUMN fields;
ALTER TABLE job_events DROP COLUMN edit;
ALTER TABLE jobs DROP COLUMN pending_edit;
DROP TABLE job_edits;
