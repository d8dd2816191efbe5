package server_test

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/server"
)

func TestConfig_EnvThenFlags(t *testing.T) {
	env := map[string]string{
		"FIELDSYNC_DATABASE_URL": "postgres://fs:hunter2@db:5432/fs?sslmode=disable",
		"FIELDSYNC_ADDR":         ":9000",
		"FIELDSYNC_CURRENCY":     "GBP",
		"FIELDSYNC_TOKEN_TTL":    "24h",
		"FIELDSYNC_CADENCE_B":    "10",
		"FIELDSYNC_LOG_LEVEL":    "debug",
	}
	cfg, err := server.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:7000", "--cadence-c", "45"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7000" || cfg.Currency != "GBP" || cfg.TokenTTL != 24*time.Hour ||
		cfg.CadenceA != 7 || cfg.CadenceB != 10 || cfg.CadenceC != 45 || cfg.LogLevel != "debug" {
		t.Errorf("config = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
	s := cfg.String()
	if strings.Contains(s, "hunter2") || !strings.Contains(s, "db:5432") {
		t.Errorf("String() = %s; the password must be masked", s)
	}
}

func TestConfig_Defaults(t *testing.T) {
	cfg, err := server.ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "fieldsync.db" || cfg.Addr != ":8080" || cfg.Currency != "EUR" ||
		cfg.CadenceA != 7 || cfg.CadenceB != 14 || cfg.CadenceC != 30 || cfg.BodyLimit < 1<<20 {
		t.Errorf("defaults = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults rejected: %v", err)
	}
}

func TestConfig_Invalid(t *testing.T) {
	env := map[string]string{"FIELDSYNC_TOKEN_TTL": "30 days", "FIELDSYNC_CADENCE_A": "weekly"}
	if _, err := server.ConfigFromEnv(func(k string) string { return env[k] }); err == nil ||
		!strings.Contains(err.Error(), "FIELDSYNC_TOKEN_TTL") || !strings.Contains(err.Error(), "FIELDSYNC_CADENCE_A") {
		t.Errorf("err = %v, want both bad variables named", err)
	}
	cfg := server.DefaultConfig()
	cfg.Currency, cfg.LogLevel, cfg.CadenceB, cfg.BodyLimit = "euro", "loud", 0, 1000
	err := cfg.Validate()
	for _, want := range []string{"currency", "log level", "cadences", "body limit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"fieldsync.db":                           "fieldsync.db",
		"postgres://u:p4ss@h/db?sslmode=disable": "postgres://u:xxxxx@h/db?sslmode=disable",
		"postgres://u@h/db?password=p4ss":        "postgres://u@h/db?password=xxxxx",
		"postgres://u:p4ss@h:bad port/db":        "postgres://(unparseable, hidden)",
	} {
		if got := server.RedactDSN(in); got != want || strings.Contains(got, "p4ss") {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

// A day must not depend on the machine: "Local" is refused like an unknown
// zone.
func TestConfig_TimeZone(t *testing.T) {
	for zone, ok := range map[string]bool{"Europe/Berlin": true, "UTC": true, "Local": false, "Mars/Olympus": false, "": false} {
		cfg := server.DefaultConfig()
		cfg.TimeZone = zone
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("time zone %q: Validate() = %v, want ok %v", zone, err, ok)
		}
	}
}

// TestConfig_WebhookSettings: the delivery timeout and first backoff default
// to the dispatcher's, come from the environment, are overridden by flags,
// and a bad value is refused naming the setting.
func TestConfig_WebhookSettings(t *testing.T) {
	cfg := server.DefaultConfig()
	if cfg.WebhookTimeout != 10*time.Second || cfg.WebhookBackoff != 5*time.Second {
		t.Errorf("defaults: timeout %s, backoff %s; want 10s, 5s", cfg.WebhookTimeout, cfg.WebhookBackoff)
	}
	env := map[string]string{"FIELDSYNC_WEBHOOK_TIMEOUT": "3s", "FIELDSYNC_WEBHOOK_BACKOFF": "250ms"}
	cfg, err := server.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WebhookTimeout != 3*time.Second || cfg.WebhookBackoff != 250*time.Millisecond {
		t.Errorf("from the environment: timeout %s, backoff %s", cfg.WebhookTimeout, cfg.WebhookBackoff)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"--webhook-timeout", "20s"}); err != nil {
		t.Fatal(err)
	}
	if cfg.WebhookTimeout != 20*time.Second || cfg.WebhookBackoff != 250*time.Millisecond {
		t.Errorf("after the flag: timeout %s, backoff %s", cfg.WebhookTimeout, cfg.WebhookBackoff)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid webhook settings rejected: %v", err)
	}

	env = map[string]string{"FIELDSYNC_WEBHOOK_TIMEOUT": "ten", "FIELDSYNC_WEBHOOK_BACKOFF": "5"}
	_, err = server.ConfigFromEnv(func(k string) string { return env[k] })
	for _, want := range []string{"FIELDSYNC_WEBHOOK_TIMEOUT", "FIELDSYNC_WEBHOOK_BACKOFF"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ConfigFromEnv() = %v, want it to name %s", err, want)
		}
	}
	for _, bad := range []struct{ timeout, backoff time.Duration }{{0, time.Second}, {-time.Second, time.Second},
		{time.Hour, time.Second}, {time.Second, 0}, {time.Second, -time.Second}, {time.Second, time.Hour}} {
		cfg := server.DefaultConfig()
		cfg.WebhookTimeout, cfg.WebhookBackoff = bad.timeout, bad.backoff
		want := "webhook timeout"
		if bad.timeout == time.Second {
			want = "webhook backoff"
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("timeout %s, backoff %s: Validate() = %v, want it to name the %s", bad.timeout, bad.backoff, err, want)
		}
	}
}
