package device

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// pushBodyBudget keeps a batch under the server's 1 MiB body limit with room
// for the envelope.
const pushBodyBudget = wire.MaxPushBodyBytes - 16<<10

// push sends the outbox in batches until it is empty or a request fails. A
// failed request leaves every mutation in place, frozen (Sent), to be resent
// byte for byte.
func (c *Client) push(ctx context.Context, rep *SyncReport) error {
	for {
		batch, pending, err := c.nextBatch(ctx)
		if err != nil || len(batch) == 0 {
			return err
		}
		req := wire.PushRequest{DeviceID: c.DeviceID(), Mutations: make([]wire.Mutation, len(batch)), Pending: &pending}
		for i, m := range batch {
			req.Mutations[i] = toWire(m)
		}
		var resp wire.PushResponse
		if err := c.call(ctx, http.MethodPost, "/v1/sync/push", req, &resp); err != nil {
			return fmt.Errorf("push %d mutations: %w", len(batch), err)
		}
		rep.Pushed += len(batch)
		answered, err := c.applyResults(ctx, batch, resp.Results, rep)
		if err != nil {
			return err
		}
		if answered < len(batch) {
			return fmt.Errorf("push: server answered %d of %d mutations", answered, len(batch))
		}
	}
}

func toWire(m outboxRow) wire.Mutation {
	w := wire.Mutation{MutationID: m.MutationID, Table: m.Tbl, Op: m.Op, ID: m.RowID, BaseVersion: m.BaseVersion}
	if m.Patch != nil {
		w.Row = json.RawMessage(*m.Patch)
	}
	return w
}

// nextBatch takes the oldest pending mutations, at most PushBatch and the body
// budget, stopping before a second mutation of a row already in the batch (it
// must wait for the first one's result to know its base_version), and marks
// them sent. pending is the outbox size once the batch is through.
//
// It reads the outbox a page of PushBatch+1 rows at a time, from the oldest,
// and stops as soon as the batch is complete: reading the whole outbox for
// every batch made draining a long outbox quadratic. Only mutations too large
// for any request (marked failed and skipped) make it read a further page.
func (c *Client) nextBatch(ctx context.Context) (batch []outboxRow, pending int64, err error) {
	err = c.tx(ctx, func(tx *gorm.DB) error {
		batch = batch[:0]
		seen := map[string]bool{}
		size := 0
		page := c.opt.PushBatch + 1
		var after int64
	pages:
		for {
			var rows []outboxRow
			if err := tx.Where("state = ? AND seq > ?", statePending, after).Order("seq").Limit(page).Find(&rows).Error; err != nil {
				return fmt.Errorf("read outbox: %w", err)
			}
			for _, m := range rows {
				after = m.Seq
				n := len(m.MutationID) + len(m.RowID) + 128
				if m.Patch != nil {
					n += len(*m.Patch)
				}
				if n > pushBodyBudget {
					if err := c.local().fail(tx, m, domain.Errorf(domain.CodeTooLarge, "mutation is larger than a push request may be")); err != nil {
						return err
					}
					continue
				}
				key := m.Tbl + "/" + m.RowID
				if len(batch) == c.opt.PushBatch || seen[key] || size+n > pushBodyBudget {
					break pages
				}
				seen[key] = true
				size += n
				batch = append(batch, m)
			}
			if len(rows) < page {
				break
			}
		}
		if len(batch) == 0 {
			return nil
		}
		seqs := make([]int64, len(batch))
		for i, m := range batch {
			seqs[i] = m.Seq
		}
		if err := tx.Model(&outboxRow{}).Where("seq IN ?", seqs).Update("sent", true).Error; err != nil {
			return fmt.Errorf("mark outbox sent: %w", err)
		}
		// A count, not a read of the rows: the rest of the outbox stays unread.
		if err := tx.Model(&outboxRow{}).Where("state = ?", statePending).Count(&pending).Error; err != nil {
			return fmt.Errorf("count outbox: %w", err)
		}
		pending -= int64(len(batch))
		return nil
	})
	return batch, pending, err
}
