//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockSQLite takes the serve lock of the SQLite database at path: an
// exclusive flock on path+".serve.lock", held until the returned file is
// closed or the process ends (the kernel drops it even after a kill -9, so a
// crash leaves no stale lock). SQLite is served by one process: the engine's
// push lock, the in-process change fan-out and the failed-login counts all
// assume it, so a second `fieldsync serve` on the same file is refused.
func lockSQLite(path string) (*os.File, error) {
	name := path + ".serve.lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(name)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "unknown"
			}
			return nil, fmt.Errorf("SQLite database %s is already served by another fieldsync process (pid %s; lock file %s): "+
				"a SQLite database is served by one process only; stop the other one, or run several instances on Postgres (docs/operations.md)",
				path, pid, name)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	// The holder's pid, for the message above; the lock is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
