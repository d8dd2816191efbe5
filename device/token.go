package device

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenStore keeps the device token (a bearer secret: whoever holds it syncs as
// the user until it expires or is revoked) outside the mirror file, so the file
// can be backed up or inspected without leaking it.
//
// The default, FileTokenStore, writes it to a file beside the mirror readable
// by its owner only (mode 0600): on a desktop or a server-side simulator that is
// what the platform offers. On phones, give Options.TokenStore an
// implementation over the platform's secret store instead: the iOS Keychain
// (kSecClassGenericPassword, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly)
// or, on Android, a key in the Android Keystore encrypting the token in
// SharedPreferences (EncryptedSharedPreferences). The methods take and return
// only strings and errors so that an app built with gomobile bind can implement
// the interface in Swift or Kotlin and pass it in.
//
// Load returns "" when no token is stored. Save("") deletes the token.
type TokenStore interface {
	Load() (string, error)
	Save(token string) error
}

// FileTokenStore stores the token in a file of mode 0600, replaced atomically.
type FileTokenStore struct{ Path string }

// Load reads the token; a missing file is no token.
func (s FileTokenStore) Load() (string, error) {
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Save writes the token through a temporary file of mode 0600 renamed over the
// old one, so a crash leaves the old token or the new one; "" removes the file.
func (s FileTokenStore) Save(token string) error {
	if token == "" {
		if err := os.Remove(s.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove token: %w", err)
		}
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(s.Path), filepath.Base(s.Path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return fmt.Errorf("write token: %w", err)
	}
	if _, err := f.WriteString(token); err != nil {
		_ = f.Close()
		return fmt.Errorf("write token: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	if err := os.Rename(f.Name(), s.Path); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	return nil
}
