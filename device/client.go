package device

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// Options configure a Client. Only ServerURL is required.
type Options struct {
	ServerURL  string
	HTTPClient *http.Client // default: a client with a 2-minute timeout
	// DeviceID identifies this installation at login. Empty: the one stored in
	// the file, or a new UUID stored there.
	DeviceID   string
	DeviceName string
	PullLimit  int              // changes per pull page; 0 lets the server choose
	PushBatch  int              // mutations per push request; default 100, max 500
	Clock      func() time.Time // default time.Now
	// TokenStore keeps the device token out of the mirror file. Default: a
	// FileTokenStore at the file's path + ".token", mode 0600. On phones, pass
	// one over the Keychain or the Android Keystore (see TokenStore).
	TokenStore TokenStore
	// UploadChunk is the most bytes one upload request carries (default
	// DefaultUploadChunk); a cut connection loses at most what one chunk had
	// sent past the server's last saved offset.
	UploadChunk int64
}

// DefaultPushBatch is the push batch size when Options.PushBatch is 0.
const DefaultPushBatch = 100

// Client is one device: a local file and a server. It is safe for concurrent
// use; Sync calls are serialised, local writes are serialised by the database.
type Client struct {
	db      *gorm.DB
	http    *http.Client
	baseURL string
	opt     Options

	syncMu   sync.Mutex // one Sync at a time
	uploadMu sync.Mutex // one UploadAttachments at a time, beside Sync
	files    string     // attachment files waiting for upload: path + ".files"

	mu       sync.RWMutex // guards the cached identity below
	deviceID string
	token    string
	userID   string
	role     domain.Role
}

// Meta keys of the local file.
const (
	metaCursor   = "cursor"
	metaToken    = "token" // only in files of SDKs before TokenStore; moved out by init
	metaDeviceID = "device_id"
	metaUserID   = "user_id"
	metaRole     = "role"
)

// Open opens (or creates) the device file at path.
func Open(ctx context.Context, path string, opt Options) (*Client, error) {
	if opt.ServerURL == "" {
		return nil, errors.New("device: Options.ServerURL is required")
	}
	opt = withDefaults(opt)
	if opt.TokenStore == nil {
		opt.TokenStore = FileTokenStore{Path: path + ".token"}
	}
	db, err := gorm.Open(sqlite.Open(path+"?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate&_synchronous=NORMAL"), &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("open device file: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open device file: %w", err)
	}
	// One connection: the file has one writer anyway, and readers never see a
	// half-applied page because every page is one transaction on it.
	sqlDB.SetMaxOpenConns(1)
	// The mirror holds customer data: owner only, whatever the umask.
	if err := os.Chmod(path, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open device file: %w", err)
	}
	c := &Client{db: db, http: opt.HTTPClient, baseURL: strings.TrimRight(opt.ServerURL, "/"), opt: opt, files: path + ".files"}
	if err := c.init(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return c, nil
}

func withDefaults(opt Options) Options {
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if opt.PushBatch <= 0 {
		opt.PushBatch = DefaultPushBatch
	}
	opt.PushBatch = min(opt.PushBatch, wire.MaxMutations)
	opt.PullLimit = min(max(opt.PullLimit, 0), wire.MaxPullLimit)
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.UploadChunk <= 0 {
		opt.UploadChunk = DefaultUploadChunk
	}
	return opt
}

// init migrates the file and loads (or creates) the identity it holds. A token
// that an earlier SDK kept in the file moves to the token store.
func (c *Client) init(ctx context.Context) error {
	if err := migrate(ctx, c.db); err != nil {
		return err
	}
	if err := c.sweepFiles(ctx); err != nil {
		return err
	}
	token, err := c.opt.TokenStore.Load()
	if err != nil {
		return err
	}
	return c.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		meta, err := loadMeta(tx)
		if err != nil {
			return err
		}
		c.deviceID = c.opt.DeviceID
		if c.deviceID == "" {
			c.deviceID = meta[metaDeviceID]
		}
		if c.deviceID == "" {
			c.deviceID = uuid.NewString()
		}
		if old := meta[metaToken]; old != "" {
			if token == "" {
				if err := c.opt.TokenStore.Save(old); err != nil {
					return err
				}
				token = old
			}
			if err := tx.Exec(`DELETE FROM meta WHERE key = ?`, metaToken).Error; err != nil {
				return fmt.Errorf("move token out of the file: %w", err)
			}
		}
		c.token, c.userID, c.role = token, meta[metaUserID], domain.Role(meta[metaRole])
		return setMeta(tx, metaDeviceID, c.deviceID)
	})
}

// Close closes the local file.
func (c *Client) Close() error {
	sqlDB, err := c.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// DeviceID is the id this device sends at login.
func (c *Client) DeviceID() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.deviceID
}

// UserID is the signed-in user's id, "" when logged out of a fresh file.
func (c *Client) UserID() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.userID
}

// Role is the signed-in user's role.
func (c *Client) Role() domain.Role {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.role
}

func (c *Client) currentToken() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

func (c *Client) now() time.Time { return c.opt.Clock().UTC() }

func (c *Client) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return c.db.WithContext(ctx).Transaction(fn)
}

func loadMeta(tx *gorm.DB) (map[string]string, error) {
	var rows []metaRow
	if err := tx.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read meta: %w", err)
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r.Key] = r.Value
	}
	return m, nil
}

func getMeta(tx *gorm.DB, key string) (string, error) {
	var rows []metaRow
	if err := tx.Where("key = ?", key).Find(&rows).Error; err != nil {
		return "", fmt.Errorf("read meta %s: %w", key, err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].Value, nil
}

func setMeta(tx *gorm.DB, key, value string) error {
	err := tx.Exec(`INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value).Error
	if err != nil {
		return fmt.Errorf("write meta %s: %w", key, err)
	}
	return nil
}
