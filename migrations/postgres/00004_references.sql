-- +goose Up
-- Idempotent top-ups and adjustments (SPEC section 4): an operator's
-- reference names at most one entry of an employer's ledger, so a retried
-- request finds the entry it posted instead of posting again. Adding a
-- nullable column rewrites no row, so the append-only trigger is not
-- involved. The index is partial: job charges, the bulk of the ledger,
-- carry no reference.
ALTER TABLE ledger_entries ADD COLUMN reference TEXT NULL;
CREATE UNIQUE INDEX ledger_one_reference ON ledger_entries (employer_id, reference) WHERE reference IS NOT NULL;

-- +goose Down
DROP INDEX ledger_one_reference;
ALTER TABLE ledger_entries DROP COLUMN reference;
