-- +goose Up
-- Signed webhooks (SPEC section 9). An employer has at most one endpoint;
-- the events it selects are written to the outbox (webhook_deliveries) in
-- the same transaction as the change that causes them, and the delivery
-- worker of every serve instance posts them, recording each attempt.
-- This file mirrors postgres/00008_webhooks.sql; keep the two in step.

CREATE TABLE webhook_endpoints (
    employer_id       BIGINT      PRIMARY KEY REFERENCES employers (id),
    url               TEXT        NOT NULL,
    -- events is a JSON array of the selected event types.
    events            TEXT        NOT NULL,
    -- secret is the signing secret sealed under ATSGATE_SECRET_KEY.
    secret            TEXT        NOT NULL,
    -- low_balance_minor is the threshold of wallet.low_balance; NULL: none.
    low_balance_minor BIGINT      NULL,
    active            BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at        DATETIME    NOT NULL,
    updated_at        DATETIME    NOT NULL
);

CREATE TABLE webhook_deliveries (
    id            INTEGER     PRIMARY KEY AUTOINCREMENT,
    event_id      VARCHAR(64) NOT NULL UNIQUE,
    employer_id   BIGINT      NOT NULL REFERENCES employers (id),
    type          VARCHAR(40) NOT NULL,
    job_id        BIGINT      NULL REFERENCES jobs (id),
    -- body is the whole JSON envelope, written once: every attempt and a
    -- re-send post the same bytes.
    body          TEXT        NOT NULL,
    status        VARCHAR(16) NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      INTEGER     NOT NULL DEFAULT 0,
    next_at       DATETIME    NOT NULL,
    -- lease_until: a worker's claim; past it, the row is due again (a
    -- crashed worker's claim expires).
    lease_until   DATETIME    NULL,
    give_up_at    DATETIME    NOT NULL,
    created_at    DATETIME    NOT NULL,
    delivered_at  DATETIME    NULL,
    last_error    TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_employer ON webhook_deliveries (employer_id, id);

CREATE TABLE webhook_attempts (
    id           INTEGER     PRIMARY KEY AUTOINCREMENT,
    delivery_id  BIGINT      NOT NULL REFERENCES webhook_deliveries (id),
    url          TEXT        NOT NULL,
    status_code  INTEGER     NOT NULL DEFAULT 0,
    error        TEXT        NOT NULL DEFAULT '',
    duration_ms  BIGINT      NOT NULL DEFAULT 0,
    created_at   DATETIME    NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
