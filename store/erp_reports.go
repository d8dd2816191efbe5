package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
)

// The ERP's status reports, kept by the ERP's reference so that a report
// sent twice is answered from here instead of being applied twice.

type erpReportRow struct {
	ERPRef       string `gorm:"column:erp_ref;primaryKey"`
	OrderID      string
	Status       string
	ShippedAt    *time.Time
	DeliveredAt  *time.Time
	APIKeyID     string `gorm:"column:api_key_id"`
	OrderVersion int64
	CreatedAt    time.Time
}

func (erpReportRow) TableName() string { return "erp_status_reports" }

// ERPReportRecord is a report as applied: what it said and the order version
// it produced.
type ERPReportRecord struct {
	Report       domain.ERPReport
	OrderVersion int64
}

// GetERPReport returns the report recorded under ref; found is false when
// there is none.
func GetERPReport(tx *Tx, ref string) (rec ERPReportRecord, found bool, err error) {
	var r erpReportRow
	err = tx.g.Where("erp_ref = ?", ref).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("erp report: %w", err)
	}
	rep := domain.ERPReport{ERPRef: r.ERPRef, OrderID: r.OrderID, Status: r.Status,
		ShippedAt: utcPtr(r.ShippedAt), DeliveredAt: utcPtr(r.DeliveredAt)}
	return ERPReportRecord{Report: rep, OrderVersion: r.OrderVersion}, true, nil
}

// RecordERPReport keeps a report applied in tx, stamped with its clock. Two reports racing with one
// reference meet on the primary key: the second is a conflict.
func RecordERPReport(tx *Tx, keyID string, rec ERPReportRecord) error {
	r := erpReportRow{ERPRef: rec.Report.ERPRef, OrderID: rec.Report.OrderID, Status: rec.Report.Status,
		ShippedAt: rec.Report.ShippedAt, DeliveredAt: rec.Report.DeliveredAt, APIKeyID: keyID,
		OrderVersion: rec.OrderVersion, CreatedAt: tx.Now().UTC()}
	if err := tx.g.Create(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return domain.Errorf(domain.CodeConflict, "erp_ref %s was already reported", rec.Report.ERPRef)
		}
		return fmt.Errorf("record erp report: %w", err)
	}
	return nil
}
