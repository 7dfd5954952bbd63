-- +goose Up
-- The hot path (issue 11, SPEC section 10).
-- This file mirrors sqlite/00009_speed.sql; keep the two in step.

-- An employer's jobs list, newest first, read from the index alone: the
-- keys are the list's order and the included columns are what a job
-- record shows (store.recordColumns), so a page is one index range scan
-- with no visit to the table, where each row also carries its description
-- (up to 512 KiB). It replaces jobs_employer_newest for the list; that
-- index stays for what else reads an employer's jobs newest first,
-- archived ones included.
-- Archived jobs (ERP, migration 00007) are not listed, so not indexed.
CREATE INDEX jobs_employer_list ON jobs (employer_id, id DESC)
    INCLUDE (country_id, external_id, dialect, state, title, deadline, amount_charged_minor, public_path,
             received_at, updated_at, published_at, closed_at, disapproved_at, disapproval_reason, pending_edit,
             archived_at)
    WHERE archived_at IS NULL;

-- An ATS create in one round trip (store.createJobPG): the job, its first
-- event, the conditional wallet debit and the ledger entry, as one
-- statement and so one transaction, where the transaction form costs a
-- round trip per step. Same steps, same order, same guarantees as the
-- transaction form that SQLite keeps (store.createJob): idempotency on
-- the (employer_id, external_id) constraint, a replay returns the stored
-- job and charges nothing, the debit is one conditional UPDATE and the
-- ledger's one-charge index stands behind it. A wallet that does not
-- cover the price raises SQLSTATE AT402 with the balance in DETAIL, which
-- undoes the insert. The public path is the path prefix, the new ID and
-- the title's slug (p_path_prefix, p_path_suffix from atsgate.PublicPath).
-- An employer with an active webhook endpoint gets no row and nothing
-- written: its creates write outbox rows built in Go (webhooks.go), so the
-- caller runs the transaction form instead.
-- +goose StatementBegin
CREATE FUNCTION atsgate_create_job(
    p_employer bigint, p_country bigint, p_external text, p_dialect text, p_state text,
    p_title text, p_description text, p_deadline text, p_apply_url text, p_apply_email text,
    p_min_experience bigint, p_max_experience bigint, p_salary bigint, p_specialization bigint,
    p_show_company_name boolean, p_states text, p_qualifications text, p_extras text,
    p_price bigint, p_path_prefix text, p_path_suffix text, p_now timestamptz, p_actor text, p_note text)
RETURNS TABLE (created boolean, job jobs) LANGUAGE plpgsql AS $$
DECLARE
    r jobs%ROWTYPE;
    v_id bigint;
    v_balance bigint;
    v_at timestamptz;
BEGIN
    IF EXISTS (SELECT 1 FROM webhook_endpoints AS h WHERE h.employer_id = p_employer AND h.active) THEN
        RETURN;
    END IF;
    v_id := nextval(pg_get_serial_sequence('jobs', 'id'));
    INSERT INTO jobs AS j (id, employer_id, country_id, external_id, dialect, state, title, description, deadline,
        apply_url, apply_email, min_experience, max_experience, salary, specialization, show_company_name,
        states, qualifications, extras, amount_charged_minor, public_path, received_at, updated_at, published_at)
    VALUES (v_id, p_employer, p_country, p_external, p_dialect, p_state, p_title, p_description, p_deadline,
        p_apply_url, p_apply_email, p_min_experience, p_max_experience, p_salary, p_specialization, p_show_company_name,
        p_states, p_qualifications, p_extras, p_price,
        CASE WHEN p_state = 'published' THEN p_path_prefix || v_id || p_path_suffix ELSE '' END,
        p_now, p_now, CASE WHEN p_state = 'published' THEN p_now END)
    ON CONFLICT (employer_id, external_id) DO NOTHING
    RETURNING * INTO r;
    IF NOT FOUND THEN
        -- Another create with this external_id committed first: replay it.
        SELECT * INTO r FROM jobs AS j WHERE j.employer_id = p_employer AND j.external_id = p_external;
        RETURN QUERY SELECT false, r;
        RETURN;
    END IF;
    INSERT INTO job_events (job_id, from_state, to_state, actor, reason, created_at, edit, fields)
    VALUES (v_id, '', p_state, p_actor, '', p_now, '', '');
    UPDATE wallets AS w SET balance_minor = w.balance_minor - p_price,
        updated_at = CASE WHEN w.updated_at > p_now THEN w.updated_at ELSE p_now END
    WHERE w.employer_id = p_employer AND w.balance_minor >= p_price AND w.balance_minor >= 0
    RETURNING w.balance_minor, w.updated_at INTO v_balance, v_at;
    IF NOT FOUND THEN
        SELECT w.balance_minor INTO v_balance FROM wallets AS w WHERE w.employer_id = p_employer;
        RAISE EXCEPTION USING ERRCODE = 'AT402', MESSAGE = 'atsgate: the wallet does not cover the price',
            DETAIL = coalesce(v_balance, 0)::text;
    END IF;
    INSERT INTO ledger_entries (employer_id, kind, amount_minor, balance_after_minor, job_id, period, actor, note, created_at)
    VALUES (p_employer, 'job_charge', -p_price, v_balance, v_id, NULL, p_actor, p_note, v_at);
    RETURN QUERY SELECT true, r;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION atsgate_create_job;
DROP INDEX jobs_employer_list;
