package device

import (
	"sync/atomic"

	"gorm.io/gorm"
)

// CountOutboxReads counts, from now on, the outbox rows c's queries load, so a
// test can show what a push costs in reads whatever the outbox's length.
func CountOutboxReads(c *Client) *atomic.Int64 {
	var n atomic.Int64
	err := c.db.Callback().Query().After("gorm:query").Register("test:count_outbox_reads", func(tx *gorm.DB) {
		if tx.Statement.Table == "outbox" {
			n.Add(tx.Statement.RowsAffected)
		}
	})
	if err != nil {
		panic(err)
	}
	return &n
}
