package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/fieldsync/fieldsync/store"
)

// sqlitePath returns the file a SQLite DSN names ("" for an in-memory
// database), or an error for a URL of a database Fieldsync does not speak:
// without it, mysql://host/db would be opened as a SQLite file of that name.
func sqlitePath(dsn string) (string, error) {
	if store.IsPostgresURL(dsn) {
		return "", nil
	}
	if scheme, _, ok := strings.Cut(dsn, "://"); ok {
		return "", fmt.Errorf("%w: database URL scheme %q is not supported: use a postgres:// URL or a SQLite file path", errUsage, scheme)
	}
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == ":memory:" || strings.Contains(query, "mode=memory") {
		return "", nil
	}
	return path, nil
}

// checkDatabase refuses an unsupported URL, and a SQLite file that does not
// exist unless create is set: a mistyped path would otherwise create and serve
// an empty database whose logins all fail. It reports whether the file is to
// be created (store.Open creates it).
func checkDatabase(dsn string, create bool) (creating bool, err error) {
	path, err := sqlitePath(dsn)
	if err != nil || path == "" {
		return false, err
	}
	_, err = os.Stat(path)
	switch {
	case err == nil:
		return false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("SQLite database %s: %w", path, err)
	case create:
		return true, nil
	}
	return false, fmt.Errorf("SQLite database %q does not exist (a mistyped path?); "+
		"to start a new one run `fieldsync seed --demo` (the demo organisation and its logins), "+
		"`fieldsync migrate` (an empty database), or serve with --create=true", path)
}

// newDatabaseHint is logged when serve creates an empty SQLite database, so the
// next failed login has an explanation.
const newDatabaseHint = "created a new, EMPTY SQLite database: it has no users, so no login works yet; " +
	"run `fieldsync seed --demo` for the demo organisation and its logins, or `fieldsync user add`"
