package domain_test

import (
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

func TestCheckERPOrderMove(t *testing.T) {
	for _, from := range domain.OrderStatuses() {
		for _, to := range domain.OrderStatuses() {
			want := (from == "confirmed" && to == "shipped") || (from == "shipped" && to == "delivered")
			err := domain.CheckERPOrderMove(from, to)
			if (err == nil) != want {
				t.Errorf("%s -> %s: %v, want allowed=%v", from, to, err, want)
			}
			if err != nil && err.Code != domain.CodeIllegalTransition {
				t.Errorf("%s -> %s: code %s", from, to, err.Code)
			}
		}
	}
}

// No user role holds the import, and an API key holds nothing else.
func TestAuthorize_ImportIsIntegrationsOnly(t *testing.T) {
	for _, r := range []domain.Role{domain.RoleRep, domain.RoleCoordinator, domain.RoleManager, domain.RoleDirector, domain.RoleOps} {
		if domain.Authorize(r, domain.ActImportOrderStatus) == nil {
			t.Errorf("%s may import statuses", r)
		}
	}
	if err := domain.AuthorizeIntegration(domain.ActImportOrderStatus); err != nil {
		t.Error(err)
	}
	for _, a := range []domain.Action{domain.ActPull, domain.ActTransitionOrder, domain.ActAdmin, domain.ActListOrders} {
		if domain.AuthorizeIntegration(a) == nil {
			t.Errorf("an API key may %s", a)
		}
	}
}

func TestCheckERPReport(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	at := now.Add(-time.Hour)
	late := now.Add(48 * time.Hour)
	order := "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
	for _, tc := range []struct {
		name  string
		r     domain.ERPReport
		field string // "" = valid
	}{
		{"shipped", domain.ERPReport{ERPRef: "SHP-1", OrderID: order, Status: "shipped", ShippedAt: &at}, ""},
		{"delivered", domain.ERPReport{ERPRef: "DLV-1", OrderID: order, Status: "delivered", DeliveredAt: &at}, ""},
		{"no ref", domain.ERPReport{OrderID: order, Status: "shipped", ShippedAt: &at}, "erp_ref"},
		{"padded ref", domain.ERPReport{ERPRef: " SHP-1", OrderID: order, Status: "shipped", ShippedAt: &at}, "erp_ref"},
		{"NUL in ref", domain.ERPReport{ERPRef: "S\x00", OrderID: order, Status: "shipped", ShippedAt: &at}, "erp_ref"},
		{"bad order", domain.ERPReport{ERPRef: "S", OrderID: "42", Status: "shipped", ShippedAt: &at}, "order_id"},
		{"confirmed", domain.ERPReport{ERPRef: "S", OrderID: order, Status: "confirmed", ShippedAt: &at}, "status"},
		{"shipped without time", domain.ERPReport{ERPRef: "S", OrderID: order, Status: "shipped"}, "shipped_at"},
		{"shipped with delivery", domain.ERPReport{ERPRef: "S", OrderID: order, Status: "shipped", ShippedAt: &at, DeliveredAt: &at}, "delivered_at"},
		{"in the future", domain.ERPReport{ERPRef: "S", OrderID: order, Status: "shipped", ShippedAt: &late}, "shipped_at"},
		{"arrived before it left", domain.ERPReport{ERPRef: "S", OrderID: order, Status: "delivered", ShippedAt: &now, DeliveredAt: &at}, "shipped_at"},
	} {
		err := domain.CheckERPReport(tc.r, now)
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (err == nil || err.Code != domain.CodeValidation || err.Fields[0].Field != tc.field):
			t.Errorf("%s: %v, want validation_failed on %s", tc.name, err, tc.field)
		}
	}
}
