package device

import (
	"context"
	"fmt"
	"net/http"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// Login signs in and keeps the token in the token store (Options.TokenStore),
// so a reopened Client stays signed in. Signing in as another user than the file's previous one wipes the
// mirror, cursor and conflicts; it is refused (and the new token logged out)
// while the outbox still holds the previous user's unsynced changes.
func (c *Client) Login(ctx context.Context, email, password string) (wire.UserInfo, error) {
	req := wire.LoginRequest{Email: email, Password: password, DeviceID: c.DeviceID(), DeviceName: c.opt.DeviceName}
	var resp wire.LoginResponse
	if err := c.callWith(ctx, "", http.MethodPost, "/v1/auth/login", req, &resp); err != nil {
		return wire.UserInfo{}, err
	}
	err := c.tx(ctx, func(tx *gorm.DB) error {
		prev, err := getMeta(tx, metaUserID)
		if err != nil {
			return err
		}
		if prev != "" && prev != resp.User.ID {
			if err := forgetUser(tx); err != nil {
				return err
			}
		}
		for k, v := range map[string]string{metaUserID: resp.User.ID, metaRole: string(resp.User.Role)} {
			if err := setMeta(tx, k, v); err != nil {
				return err
			}
		}
		// Last, inside the transaction: if it fails, the user change rolls back.
		return c.opt.TokenStore.Save(resp.Token)
	})
	if err != nil {
		_ = c.opt.TokenStore.Save(c.currentToken()) // the previous token, if Save ran before a failed commit
		_ = c.callWith(ctx, resp.Token, http.MethodPost, "/v1/auth/logout", nil, nil)
		return wire.UserInfo{}, err
	}
	c.mu.Lock()
	c.token, c.userID, c.role = resp.Token, resp.User.ID, resp.User.Role
	c.mu.Unlock()
	return resp.User, nil
}

// forgetUser clears what belonged to the previous user of the file.
func forgetUser(tx *gorm.DB) error {
	var pending int64
	if err := tx.Model(&outboxRow{}).Where("state = ?", statePending).Count(&pending).Error; err != nil {
		return fmt.Errorf("count outbox: %w", err)
	}
	if pending > 0 {
		return domain.Errorf(domain.CodeConflict, "this device holds %d unsynced changes of another user", pending)
	}
	if err := dropMirror(tx); err != nil {
		return err
	}
	for _, stmt := range []string{`DELETE FROM outbox`, `DELETE FROM conflicts`, `DELETE FROM meta WHERE key = 'cursor'`} {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("forget previous user: %w", err)
		}
	}
	return nil
}

// Logout revokes the token on the server and forgets it locally. The mirror and
// the outbox stay: the same user signing in again carries on where they were.
// The local token is forgotten even if the server cannot be reached.
func (c *Client) Logout(ctx context.Context) error {
	token := c.currentToken()
	if token == "" {
		return nil
	}
	callErr := c.callWith(ctx, token, http.MethodPost, "/v1/auth/logout", nil, nil)
	if err := c.opt.TokenStore.Save(""); err != nil {
		return err
	}
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
	if domain.ErrorCode(callErr) == domain.CodeUnauthorized {
		return nil // already revoked or expired: the outcome the caller wanted
	}
	return callErr
}

// Me returns the signed-in user, their territories and devices.
func (c *Client) Me(ctx context.Context) (wire.MeResponse, error) {
	var resp wire.MeResponse
	if c.currentToken() == "" {
		return resp, errNotLoggedIn
	}
	err := c.call(ctx, http.MethodGet, "/v1/me", nil, &resp)
	return resp, err
}
