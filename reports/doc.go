// Package reports computes the managers' reports of the contract (docs/protocol.md §6): coverage
// and attainment, overdue accounts, orders by status and sync health, each
// filtered to the caller's scope. It reads with set-based SQL that runs on both
// dialects; docs/reports.md states how edge cases are interpreted.
//
// Reports is Fieldsync's second storage package: unlike every other package
// above store, it writes its own SQL, because its statements are shaped by the
// report tables it reads (migration 00004) and by nothing else. It runs them
// through store.Tx (Query, WorkMem) and never sees GORM; its statements name
// their parameters (named.go).
package reports
