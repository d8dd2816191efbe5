//go:build !unix

package main

import "os"

// lockSQLite takes no lock where flock does not exist; docs/operations.md
// says SQLite is served by one process.
func lockSQLite(string) (*os.File, error) { return nil, nil }
