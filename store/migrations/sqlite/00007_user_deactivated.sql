-- +goose Up
-- A deactivated user can neither sign in nor use a token issued before
-- (PATCH /v1/admin/users/{id} {"active": false}). NULL is active, so every
-- existing user and every insert that does not name the column stays active.
ALTER TABLE users ADD COLUMN deactivated_at datetime;
