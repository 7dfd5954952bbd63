-- +goose Up
-- The integration log: one row per API request of either dialect, written
-- in batches off the request path and purged after the retention period.
-- This file mirrors postgres/00002_integration_log.sql; keep the two in step.
-- Rows are never updated. Bodies are already cut to 16 KiB and keys to
-- their prefix before they reach this table. Text columns are unbounded on
-- purpose: they hold what clients sent, and a long value must never make a
-- whole batch fail.

CREATE TABLE integration_logs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at    DATETIME    NOT NULL,
    country_id    BIGINT      NOT NULL DEFAULT 0,
    employer_id   BIGINT      NOT NULL DEFAULT 0,
    key_prefix    TEXT        NOT NULL DEFAULT '',
    dialect       TEXT        NOT NULL DEFAULT '',
    operation     TEXT        NOT NULL DEFAULT '',
    external_id   TEXT        NOT NULL DEFAULT '',
    status        INTEGER     NOT NULL,
    error_code    TEXT        NOT NULL DEFAULT '',
    duration_us   BIGINT      NOT NULL DEFAULT 0,
    client_ip     TEXT        NOT NULL DEFAULT '',
    request_id    TEXT        NOT NULL DEFAULT '',
    method        TEXT        NOT NULL DEFAULT '',
    path          TEXT        NOT NULL DEFAULT '',
    request_body  TEXT        NOT NULL DEFAULT '',
    response_body TEXT        NOT NULL DEFAULT ''
);
-- No foreign keys: a request that failed authentication has no employer,
-- and writing the log must never wait on or fail because of another table.

-- Everyone's requests by time (the since/until filters and the purge).
CREATE INDEX integration_logs_time ON integration_logs (created_at, id);
-- One employer's requests, newest first (keyset on id).
CREATE INDEX integration_logs_employer ON integration_logs (employer_id, id);
-- Requests by status, newest first (status and status-class filters).
CREATE INDEX integration_logs_status ON integration_logs (status, id);

-- +goose Down
DROP TABLE integration_logs;
