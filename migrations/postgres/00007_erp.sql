-- +goose Up
-- The ERP dialect (SPEC section 7): ERP sources, the per-employer-per-year
-- counters behind ERP job IDs, archived jobs, and the source of each
-- integration log entry.

-- An employer's ERP integration. The key is stored as its SHA-256 (like
-- api_keys); the signing secret as its SHA-256 and sealed with
-- ATSGATE_SECRET_KEY (AES-256-GCM, package seal), because checking a
-- signature needs the secret itself. Neither is ever stored in clear.
CREATE TABLE erp_sources (
    id                  BIGSERIAL PRIMARY KEY,
    employer_id         BIGINT       NOT NULL REFERENCES employers (id),
    name                VARCHAR(100) NOT NULL,
    source_type         VARCHAR(16)  NOT NULL DEFAULT 'ERP',
    description         TEXT         NOT NULL DEFAULT '',
    key_prefix          VARCHAR(32)  NOT NULL,
    key_hash            CHAR(64)     NOT NULL UNIQUE,
    secret_hash         CHAR(64)     NOT NULL,
    secret_sealed       TEXT         NOT NULL,
    trusted_ips         TEXT         NOT NULL DEFAULT '',
    active              BOOLEAN      NOT NULL DEFAULT TRUE,
    require_signature   BOOLEAN      NOT NULL DEFAULT FALSE,
    integration_version VARCHAR(32)  NOT NULL DEFAULT '1.0',
    sync_status         VARCHAR(8)   NOT NULL DEFAULT 'IDLE' CHECK (sync_status IN ('IDLE', 'ACTIVE', 'ERROR')),
    last_success_at     TIMESTAMPTZ  NULL,
    last_failure_at     TIMESTAMPTZ  NULL,
    last_failure_code   TEXT         NOT NULL DEFAULT '',
    created_at          TIMESTAMPTZ  NOT NULL,
    updated_at          TIMESTAMPTZ  NOT NULL,
    CONSTRAINT erp_sources_employer_name UNIQUE (employer_id, name)
);

-- The last ERP job number given to an employer in a year. It is taken by
-- an upsert inside the job's create transaction, so concurrent creates
-- queue on the row and a rolled-back create gives its number back.
CREATE TABLE erp_job_counters (
    employer_id BIGINT  NOT NULL REFERENCES employers (id),
    year        INTEGER NOT NULL,
    last_seq    BIGINT  NOT NULL,
    PRIMARY KEY (employer_id, year)
);

-- ARCHIVED (ERP) closes a job and hides it from the employer's lists.
ALTER TABLE jobs ADD COLUMN archived_at TIMESTAMPTZ NULL;
-- JOB_EXISTS looks for an open job of the employer by folded title.
CREATE INDEX jobs_open_title ON jobs (employer_id, lower(title)) WHERE state IN ('pending_review', 'published');

ALTER TABLE integration_logs ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX integration_logs_source ON integration_logs (source, id);

-- +goose Down
DROP INDEX integration_logs_source;
ALTER TABLE integration_logs DROP COLUMN source;
DROP INDEX jobs_open_title;
ALTER TABLE jobs DROP COLUMN archived_at;
DROP TABLE erp_job_counters;
DROP TABLE erp_sources;
