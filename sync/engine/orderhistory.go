package engine

import (
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// recordOrder writes the order history entry of a pushed write (before is nil
// for a create), in the push's transaction.
func (p *pusher) recordOrder(before *domain.Order, after domain.Order) error {
	by := domain.OrderChangeBy{UserID: p.a.UserID, Role: p.a.Role, DeviceID: p.a.DeviceID, Via: domain.ViaDevice}
	return store.RecordOrderChange(p.tx, by, before, after)
}
