-- +goose Up
-- PostgreSQL's file writes its search index through (no GIN pending
-- list) and changes atsgate_create_job, a function SQLite does
-- not have (its creates run the transaction form in process). This file
-- keeps the two schemas' version numbers in step.
SELECT 1;

-- +goose Down
SELECT 1;
