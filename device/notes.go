package device

import (
	"context"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// AddNote writes a note on an account.
func (c *Client) AddNote(ctx context.Context, accountID, body string) (domain.AccountNote, error) {
	return create(ctx, c, domain.TableAccountNotes, func(tx *gorm.DB) (map[string]any, error) {
		if err := exists(tx, domain.TableAccounts, "account_id", accountID); err != nil {
			return nil, err
		}
		return map[string]any{"account_id": accountID, "body": body}, nil
	}, domain.ValidateNote)
}

// EditNote replaces a note's body.
func (c *Client) EditNote(ctx context.Context, id, body string) (domain.AccountNote, error) {
	return update(ctx, c, domain.TableAccountNotes, id, func(*gorm.DB, domain.AccountNote) (map[string]any, error) {
		return map[string]any{"body": body}, nil
	}, domain.ValidateNote)
}

// DeleteNote deletes a note; a rep may delete only their own (docs/protocol.md §4.3).
func (c *Client) DeleteNote(ctx context.Context, id string) error {
	userID, role := c.UserID(), c.Role()
	return remove(ctx, c, domain.TableAccountNotes, id, func(cur domain.AccountNote) error {
		if role == domain.RoleRep && cur.AuthorID != userID {
			return domain.Errorf(domain.CodeForbidden, "a rep may delete only their own notes")
		}
		return nil
	})
}

// EditAccountContact changes an account's contact fields, the only ones a rep
// may change; nil leaves a field as it is, "" clears it.
func (c *Client) EditAccountContact(ctx context.Context, accountID string, phone, email, address *string) (domain.Account, error) {
	return update(ctx, c, domain.TableAccounts, accountID, func(*gorm.DB, domain.Account) (map[string]any, error) {
		patch := map[string]any{}
		for field, v := range map[string]*string{"phone": phone, "email": email, "address": address} {
			if v != nil {
				patch[field] = nullable(*v)
			}
		}
		if len(patch) == 0 {
			return nil, domain.Errorf(domain.CodeBadRequest, "no contact field to change")
		}
		return patch, nil
	}, domain.ValidateAccount)
}

// Mutate queues an arbitrary mutation, unchecked and never coalesced: the
// low-level door for tests and tools that must send what the typed workflows
// refuse (invalid rows, unknown tables or ops). base_version is the local copy's
// version, 0 if there is none; the local view replays it like any other edit.
func (c *Client) Mutate(ctx context.Context, table, op, id string, patch map[string]any) error {
	l := c.local()
	return c.tx(ctx, func(tx *gorm.DB) error {
		if op == opDelete {
			patch = nil
		} else if patch == nil {
			patch = map[string]any{}
		}
		return l.enqueue(tx, edit{table: table, op: op, id: id, patch: patch})
	})
}
