package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/httpapi"
)

// runAPIKey implements `fieldsync apikey create|list|revoke`: integrations'
// API keys (the ERP's status import) without an ops login, as the admin API
// issues them (docs/api.md, "ERP status import").
func runAPIKey(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: fieldsync apikey create|list|revoke ...\n%s", errUsage, usage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("apikey "+sub, flag.ContinueOnError)
	cfg, err := configFor(fs)
	if err != nil {
		return err
	}
	name := fs.String("name", "", "create: who holds the key (required)")
	id := fs.String("id", "", "revoke: the key's id (required)")
	if help, err := parseFlags(fs, args[1:], stdout); help || err != nil {
		return err
	}
	if sub != "create" && sub != "list" && sub != "revoke" {
		return fmt.Errorf("%w: unknown apikey command %q", errUsage, sub)
	}
	db, _, err := openMigrated(ctx, *cfg, quietLogger())
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := auth.New(db, cfg.AuthConfig(), quietLogger())
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		k, err := svc.CreateAPIKey(ctx, auth.APIKeyInput{Name: *name})
		if err != nil {
			return err
		}
		return printf(stdout, "created API key %q id=%s\n%s\n(the secret is shown this once)\n", k.Name, k.ID, k.Secret)
	case "list":
		keys, err := svc.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			state := "active"
			if k.RevokedAt != nil {
				state = "revoked " + k.RevokedAt.Format("2006-01-02T15:04:05Z")
			}
			if err := printf(stdout, "%s  %s…  %s  %q\n", k.ID, k.Prefix, state, k.Name); err != nil {
				return err
			}
		}
		return nil
	}
	kid, ok := httpapi.CanonicalUUID(*id)
	if !ok {
		return fmt.Errorf("%w: --id must be an API key id", errUsage)
	}
	if _, err := svc.RevokeAPIKey(ctx, kid); err != nil {
		return err
	}
	return printf(stdout, "revoked API key %s\n", kid)
}
