package server

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestMetrics_OldestWriteTransactionAge: an open write transaction in the
// database shows in the gauge at the next scrape, so operators see what holds
// pulls back.
func TestMetrics_OldestWriteTransactionAge(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	s, err := New(DefaultConfig(), db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tx := db.Gorm.WithContext(context.Background()).Begin()
	defer tx.Rollback()
	if err := tx.Exec("INSERT INTO counters(name, value) VALUES ('held', 1)").Error; err != nil {
		t.Fatal(err)
	}
	resp, err := s.App.Test(httptest.NewRequest("GET", "/metrics", nil), 5000)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	line := ""
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "fieldsync_oldest_transaction_age_seconds ") {
			line = l
		}
	}
	if line == "" || strings.HasSuffix(line, " 0") {
		t.Fatalf("gauge not set by an open write transaction: %q", line)
	}
}
