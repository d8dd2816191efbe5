package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

// TestAPIKeyCommands: create prints the secret once, list shows the key
// without it, revoke ends it.
func TestAPIKeyCommands(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "keys.db")
	var out bytes.Buffer
	if err := run(ctx, []string{"apikey", "create", "--database-url", dsn, "--name", "SAP"}, &out, &out); err != nil {
		t.Fatalf("create: %v", err)
	}
	var id, secret string
	if _, err := fmt.Sscanf(out.String(), "created API key \"SAP\" id=%s\n%s\n", &id, &secret); err != nil || !strings.HasPrefix(secret, "fsk_") {
		t.Fatalf("create printed %q (%v)", out.String(), err)
	}
	out.Reset()
	if err := run(ctx, []string{"apikey", "list", "--database-url", dsn}, &out, &out); err != nil || !strings.Contains(out.String(), id+"  "+secret[:10]+"…  active") || strings.Contains(out.String(), secret) {
		t.Fatalf("list: %v %q", err, out.String())
	}
	if err := run(ctx, []string{"apikey", "revoke", "--database-url", dsn, "--id", id}, &out, &out); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"apikey", "list", "--database-url", dsn}, &out, &out); err != nil || !strings.Contains(out.String(), "revoked") {
		t.Fatalf("list after revoke: %v %q", err, out.String())
	}
	if err := run(ctx, []string{"apikey", "create", "--database-url", dsn}, &out, &out); domain.ErrorCode(err) != domain.CodeValidation {
		t.Errorf("create without a name: %v", err)
	}
	if err := run(ctx, []string{"apikey", "drop", "--database-url", dsn}, &out, &out); !errors.Is(err, errUsage) {
		t.Errorf("unknown subcommand: %v", err)
	}
}
