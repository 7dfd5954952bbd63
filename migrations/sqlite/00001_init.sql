-- +goose Up
-- Amounts are integer minor units (1/100 of the currency unit): exact, and
-- the same in PostgreSQL and SQLite. Times are UTC.
-- This file mirrors postgres/00001_init.sql; keep the two in step.

CREATE TABLE countries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        VARCHAR(2)  NOT NULL UNIQUE,
    name        TEXT        NOT NULL,
    currency    VARCHAR(3)  NOT NULL,
    time_zone   TEXT        NOT NULL,
    price_minor BIGINT      NOT NULL CHECK (price_minor >= 0),
    public_url  TEXT        NOT NULL,
    created_at  DATETIME NOT NULL
);

CREATE TABLE country_hosts (
    host       TEXT   PRIMARY KEY,
    country_id BIGINT NOT NULL REFERENCES countries (id)
);
CREATE INDEX country_hosts_country ON country_hosts (country_id);

CREATE TABLE employers (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    country_id              BIGINT      NOT NULL REFERENCES countries (id),
    name                    TEXT        NOT NULL,
    code                    VARCHAR(32) NOT NULL UNIQUE,
    price_minor             BIGINT      NULL CHECK (price_minor >= 0),
    auto_publish            BOOLEAN     NOT NULL DEFAULT FALSE,
    min_monthly_spend_minor BIGINT      NULL CHECK (min_monthly_spend_minor >= 0),
    commitment_start        VARCHAR(7)  NULL,
    active                  BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at              DATETIME NOT NULL
);
CREATE INDEX employers_country ON employers (country_id, id);

CREATE TABLE wallets (
    employer_id   BIGINT      PRIMARY KEY REFERENCES employers (id),
    currency      VARCHAR(3)  NOT NULL,
    balance_minor BIGINT      NOT NULL DEFAULT 0,
    updated_at    DATETIME NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id BIGINT      NOT NULL REFERENCES employers (id),
    prefix      VARCHAR(32) NOT NULL,
    hash        CHAR(64)    NOT NULL UNIQUE,
    created_at  DATETIME NOT NULL,
    revoked_at  DATETIME NULL
);
-- At most one active key per employer: issuing or rotating revokes the old
-- one in the same transaction.
CREATE UNIQUE INDEX api_keys_one_active ON api_keys (employer_id) WHERE revoked_at IS NULL;

CREATE TABLE jobs (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id          BIGINT       NOT NULL REFERENCES employers (id),
    country_id           BIGINT       NOT NULL REFERENCES countries (id),
    external_id          VARCHAR(191) NOT NULL,
    dialect              VARCHAR(8)   NOT NULL,
    state                VARCHAR(20)  NOT NULL,
    title                VARCHAR(255) NOT NULL,
    description          TEXT         NOT NULL,
    deadline             VARCHAR(10)  NOT NULL DEFAULT '',
    apply_url            TEXT         NOT NULL DEFAULT '',
    apply_email          TEXT         NOT NULL DEFAULT '',
    min_experience       BIGINT       NOT NULL DEFAULT 0,
    max_experience       BIGINT       NOT NULL DEFAULT 0,
    salary               BIGINT       NOT NULL DEFAULT 0,
    specialization       BIGINT       NOT NULL DEFAULT 0,
    show_company_name    BOOLEAN      NOT NULL DEFAULT TRUE,
    states               TEXT         NOT NULL DEFAULT '[]',
    qualifications       TEXT         NOT NULL DEFAULT '[]',
    extras               TEXT         NOT NULL DEFAULT '{}',
    amount_charged_minor BIGINT       NOT NULL DEFAULT 0,
    public_path          TEXT         NOT NULL DEFAULT '',
    received_at          DATETIME  NOT NULL,
    updated_at           DATETIME  NOT NULL,
    published_at         DATETIME  NULL,
    closed_at            DATETIME  NULL,
    disapproved_at       DATETIME  NULL,
    disapproval_reason   TEXT         NOT NULL DEFAULT '',
    -- Idempotency of creates rests on this constraint, not on a lookup.
    CONSTRAINT jobs_employer_external UNIQUE (employer_id, external_id)
);
CREATE INDEX jobs_employer_newest ON jobs (employer_id, id DESC);
CREATE INDEX jobs_employer_state_newest ON jobs (employer_id, state, id DESC);
CREATE INDEX jobs_pending ON jobs (country_id, id) WHERE state = 'pending_review';
CREATE INDEX jobs_published_deadline ON jobs (deadline) WHERE state = 'published';

CREATE TABLE job_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     BIGINT      NOT NULL REFERENCES jobs (id),
    from_state VARCHAR(20) NOT NULL,
    to_state   VARCHAR(20) NOT NULL,
    actor      TEXT        NOT NULL,
    reason     TEXT        NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, id);

CREATE TABLE ledger_entries (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    employer_id         BIGINT      NOT NULL REFERENCES employers (id),
    kind                VARCHAR(16) NOT NULL CHECK (kind IN ('topup', 'job_charge', 'job_refund', 'minimum_spend', 'adjustment')),
    amount_minor        BIGINT      NOT NULL,
    balance_after_minor BIGINT      NOT NULL,
    job_id              BIGINT      NULL REFERENCES jobs (id),
    period              VARCHAR(7)  NULL,
    actor               TEXT        NOT NULL,
    note                TEXT        NOT NULL DEFAULT '',
    created_at          DATETIME NOT NULL
);
CREATE INDEX ledger_entries_employer ON ledger_entries (employer_id, id);
CREATE INDEX ledger_entries_employer_time ON ledger_entries (employer_id, created_at);
-- A job is charged at most once and refunded at most once; a month's
-- minimum-spend top-up is posted at most once: the database guarantees it.
CREATE UNIQUE INDEX ledger_one_charge ON ledger_entries (job_id) WHERE kind = 'job_charge';
CREATE UNIQUE INDEX ledger_one_refund ON ledger_entries (job_id) WHERE kind = 'job_refund';
CREATE UNIQUE INDEX ledger_one_minimum ON ledger_entries (employer_id, period) WHERE kind = 'minimum_spend';

-- The ledger is append-only.
-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE ledger_entries;
DROP TABLE job_events;
DROP TABLE jobs;
DROP TABLE api_keys;
DROP TABLE wallets;
DROP TABLE employers;
DROP TABLE country_hosts;
DROP TABLE countries;
