package device

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// pull fetches pages until has_more is false, applying each page with its
// cursor in one transaction.
func (c *Client) pull(ctx context.Context, rep *SyncReport) error {
	for {
		cursor, err := c.Cursor(ctx)
		if err != nil {
			return err
		}
		q := url.Values{}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if c.opt.PullLimit > 0 {
			q.Set("limit", strconv.Itoa(c.opt.PullLimit))
		}
		var page wire.PullResponse
		if err := c.call(ctx, http.MethodGet, "/v1/sync/pull?"+q.Encode(), nil, &page); err != nil {
			return fmt.Errorf("pull: %w", err)
		}
		if err := c.applyPage(ctx, page, rep); err != nil {
			return fmt.Errorf("pull: apply page: %w", err)
		}
		if !page.HasMore {
			return nil
		}
	}
}

// applyPage writes one page and its cursor in one local transaction: a crash
// or a bad change leaves both as they were, and the page is fetched again.
func (c *Client) applyPage(ctx context.Context, page wire.PullResponse, rep *SyncReport) error {
	l := c.local()
	var pr SyncReport
	err := c.tx(ctx, func(tx *gorm.DB) error {
		if page.Reset {
			pr.Reset = true
			if err := l.reset(tx); err != nil {
				return err
			}
		}
		pending, err := pendingRowSet(tx)
		if err != nil {
			return err
		}
		for _, ch := range page.Changes {
			if err := l.applyChange(tx, ch, pending[ch.Table+"/"+ch.ID], &pr); err != nil {
				return err
			}
		}
		return setMeta(tx, metaCursor, page.Cursor)
	})
	if err != nil {
		return err
	}
	rep.Pages++
	rep.Pulled += len(page.Changes)
	rep.Reset = rep.Reset || pr.Reset
	rep.Deleted += pr.Deleted
	rep.OutOfScope += pr.OutOfScope
	return nil
}

// applyChange applies one change: an upsert unless the local copy is newer, a
// delete whatever its version. Tables this SDK does not know are skipped, so a
// newer server can add one without stranding old devices.
func (l local) applyChange(tx *gorm.DB, ch wire.Change, pending bool, pr *SyncReport) error {
	if !domain.IsSyncedTable(ch.Table) {
		return nil
	}
	switch ch.Op {
	case opUpsert:
		cur, err := loadMirror(tx, ch.Table, ch.ID)
		if err != nil {
			return err
		}
		if cur != nil && cur.ServerRow != nil && ch.Version < cur.Version {
			return nil
		}
		return l.applyServerRow(tx, ch.Table, ch.ID, ch.Version, ch.Row, pending)
	case opDelete:
		if ch.Reason == "out_of_scope" {
			pr.OutOfScope++
		} else {
			pr.Deleted++
		}
		return l.removeServerRow(tx, ch.Table, ch.ID, pending)
	}
	return fmt.Errorf("%s %s: unknown op %q", ch.Table, ch.ID, ch.Op)
}

// reset drops the mirror and puts back the rows only the outbox knows about
// (created here, not yet acknowledged); edits of server rows come back with
// the rows themselves.
func (l local) reset(tx *gorm.DB) error {
	if err := dropMirror(tx); err != nil {
		return err
	}
	rows, err := pendingRowSet(tx)
	if err != nil {
		return err
	}
	for key := range rows {
		table, id := splitKey(key)
		if err := l.materialise(tx, table, id); err != nil {
			return err
		}
	}
	return nil
}

func splitKey(key string) (table, id string) {
	table, id, _ = strings.Cut(key, "/")
	return table, id
}
