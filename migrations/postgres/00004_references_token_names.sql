-- +goose Up
-- Idempotent top-ups and adjustments (SPEC section 4): an operator's
-- reference names at most one entry of an employer's ledger, so a retried
-- request finds the entry it posted instead of posting again. Adding a
-- nullable column rewrites no row, so the append-only trigger is not
-- involved. The index is partial: job charges, the bulk of the ledger,
-- carry no reference.
ALTER TABLE ledger_entries ADD COLUMN reference TEXT NULL;
CREATE UNIQUE INDEX ledger_one_reference ON ledger_entries (employer_id, reference) WHERE reference IS NOT NULL;

-- An admin token's name is its holder's actor in ledgers and job events
-- (admin:<name>), so two active tokens may not share one. A revoked
-- token's name is free again: the new token is the same person's. Active
-- duplicates from before this rule keep the oldest token's name; the
-- others become name#ID, which `admin token list` shows.
UPDATE admin_tokens SET name = name || '#' || id
WHERE revoked_at IS NULL AND EXISTS (
    SELECT 1 FROM admin_tokens o
    WHERE o.name = admin_tokens.name AND o.revoked_at IS NULL AND o.id < admin_tokens.id);
CREATE UNIQUE INDEX admin_tokens_active_name ON admin_tokens (name) WHERE revoked_at IS NULL;

-- +goose Down
DROP INDEX admin_tokens_active_name;
DROP INDEX ledger_one_reference;
ALTER TABLE ledger_entries DROP COLUMN reference;
