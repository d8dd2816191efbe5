// Package e2e holds the browser test: the real server on a loopback port with
// the demo organisation, driven by headless Chromium over the DevTools protocol.
// It runs when FIELDSYNC_E2E=1 (CI sets it, and installs Debian's chromium).
package e2e
