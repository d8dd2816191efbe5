package server_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/server"
)

// TestRegisterFlags_NameTheirVariables: `fieldsync serve -h` is where the
// README sends readers for the defaults, so every variable ConfigFromEnv reads
// has a flag whose help names it, but for the few set once per deployment.
func TestRegisterFlags_NameTheirVariables(t *testing.T) {
	envOnly := map[string]bool{
		"FIELDSYNC_BCRYPT_COST": true, "FIELDSYNC_LOGIN_FAILURES_PER_EMAIL": true,
		"FIELDSYNC_LOGIN_FAILURES_PER_ADDR": true, "FIELDSYNC_LOGIN_FAILURE_WINDOW": true,
		// Credentials stay out of the process list: environment only.
		"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true,
		"FIELDSYNC_BLOB_ACCESS_KEY": true, "FIELDSYNC_BLOB_SECRET_KEY": true,
	}
	var read []string
	cfg, err := server.ConfigFromEnv(func(k string) string { read = append(read, k); return "" })
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	var help strings.Builder
	fs.SetOutput(&help)
	fs.PrintDefaults()
	for _, name := range read {
		if !envOnly[name] && !strings.Contains(help.String(), "(env "+name+")") {
			t.Errorf("no serve flag names %s", name)
		}
	}
	for _, f := range []string{"-read-timeout", "-write-timeout", "-idle-timeout", "-shutdown-timeout"} {
		if !strings.Contains(help.String(), f) {
			t.Errorf("serve -h lacks %s", f)
		}
	}
}
