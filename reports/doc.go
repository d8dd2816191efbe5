// Package reports computes the managers' reports of the contract (docs/protocol.md §6): coverage
// and attainment, overdue accounts, orders by status and sync health, each
// filtered to the caller's scope. It reads with set-based SQL that runs on both
// dialects; docs/reports.md states how edge cases are interpreted.
package reports
