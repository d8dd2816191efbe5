// Package store is Fieldsync's storage: GORM models (unexported rows with explicit
// converters to domain types), versioned migrations for Postgres and SQLite, and
// the write helpers that change a synced row and append its change-log entries in
// the same transaction. Nothing above this package sees a driver error.
package store
