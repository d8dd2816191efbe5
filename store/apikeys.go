package store

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// Integrations' API keys (docs/api.md, "ERP status import"): only the hash of
// a key's secret is stored, and a key is looked up by that hash.

type apiKeyRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Prefix    string
	KeyHash   string
	CreatedAt time.Time
	RevokedAt *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

func (r apiKeyRow) domain() domain.APIKey {
	k := domain.APIKey{ID: r.ID, Name: r.Name, Prefix: r.Prefix, CreatedAt: r.CreatedAt.UTC()}
	if r.RevokedAt != nil {
		t := r.RevokedAt.UTC()
		k.RevokedAt = &t
	}
	return k
}

// CreateAPIKey stores a new key under the hash of its secret.
func (db *DB) CreateAPIKey(ctx context.Context, k domain.APIKey, hash string) (domain.APIKey, error) {
	tx := db.Autocommit(ctx)
	r := apiKeyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, KeyHash: hash, CreatedAt: tx.Now().UTC()}
	if err := tx.g.Create(&r).Error; err != nil {
		return domain.APIKey{}, fmt.Errorf("create api key: %w", Translate(err, "api key"))
	}
	return r.domain(), nil
}

// ListAPIKeys returns every key, revoked ones too, oldest first.
func (db *DB) ListAPIKeys(ctx context.Context) ([]domain.APIKey, error) {
	var rows []apiKeyRow
	if err := db.Autocommit(ctx).g.Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	out := make([]domain.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// RevokeAPIKey revokes a key at once; revoking it again changes nothing.
func (db *DB) RevokeAPIKey(ctx context.Context, id string) (domain.APIKey, error) {
	var out domain.APIKey
	err := db.InTx(ctx, func(tx *Tx) error {
		var r apiKeyRow
		if err := tx.g.Where("id = ?", id).Take(&r).Error; err != nil {
			return Translate(err, "api key")
		}
		if r.RevokedAt == nil {
			now := tx.Now().UTC()
			if err := tx.g.Model(&apiKeyRow{}).Where("id = ?", id).Update("revoked_at", now).Error; err != nil {
				return fmt.Errorf("revoke api key: %w", err)
			}
			r.RevokedAt = &now
		}
		out = r.domain()
		return nil
	})
	return out, err
}

// APIKeyByHash returns the key whose secret hashes to hash, revoked or not.
func (db *DB) APIKeyByHash(ctx context.Context, hash string) (domain.APIKey, error) {
	var r apiKeyRow
	if err := db.Autocommit(ctx).g.Where("key_hash = ?", hash).Take(&r).Error; err != nil {
		return domain.APIKey{}, Translate(err, "api key")
	}
	return r.domain(), nil
}
