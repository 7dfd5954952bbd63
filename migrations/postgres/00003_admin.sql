-- +goose Up
-- Back-office tokens and browser sessions. Tokens and session cookies are
-- stored only as SHA-256 hashes: 256 random bits need no slow hash.

CREATE TABLE admin_tokens (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT        NOT NULL,
    role       VARCHAR(16) NOT NULL CHECK (role IN ('operator', 'reviewer', 'finance')),
    hash       CHAR(64)    NOT NULL UNIQUE,
    prefix     VARCHAR(32) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NULL
);

CREATE TABLE admin_sessions (
    id         CHAR(64)    PRIMARY KEY,
    token_id   BIGINT      NOT NULL REFERENCES admin_tokens (id),
    csrf       CHAR(64)    NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX admin_sessions_token ON admin_sessions (token_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- +goose Down
DROP TABLE admin_sessions;
DROP TABLE admin_tokens;
