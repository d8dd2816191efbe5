// Package store is Fieldsync's storage: GORM models (unexported rows with explicit
// converters to domain types), versioned migrations for Postgres and SQLite, and
// the write helpers that change a synced row and append its change-log entries in
// the same transaction. Every function takes a Tx (InTx, ReadTx, Autocommit),
// which carries the dialect and the time of its unit of work, so no caller
// passes a clock or asks which database it talks to. Nothing above this package
// sees GORM or a driver error.
package store
