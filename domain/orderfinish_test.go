package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

func TestFinishOrder(t *testing.T) {
	const (
		acc, other = "6f9619ff-8b86-d011-b42d-00c04fc964f1", "6f9619ff-8b86-d011-b42d-00c04fc964f2"
		prod       = "6f9619ff-8b86-d011-b42d-00c04fc964f3"
		visit      = "6f9619ff-8b86-d011-b42d-00c04fc964f4"
	)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	catalogue := map[string]domain.Product{prod: {ID: prod, UnitPriceCents: 250, Currency: "EUR", Active: true}}
	order := func(status string) domain.Order {
		return domain.Order{ID: "6f9619ff-8b86-d011-b42d-00c04fc964f5", AccountID: acc, RepID: "6f9619ff-8b86-d011-b42d-00c04fc964f6",
			Status: status, Currency: "EUR", Lines: []domain.OrderLine{{ProductID: prod, Quantity: 2, UnitPriceCents: 1}}}
	}
	for _, tc := range []struct {
		name      string
		o         domain.Order
		from      string
		facts     domain.OrderFacts
		wantCode  domain.Code
		numbered  bool
		wantTotal int64
		linked    bool
	}{
		{"DraftPricedFromCatalogue", order(domain.OrderDraft), domain.OrderDraft, domain.OrderFacts{Products: catalogue}, "", false, 500, false},
		{"SubmitNumbersAndStamps", order(domain.OrderSubmitted), domain.OrderDraft, domain.OrderFacts{Products: catalogue}, "", true, 500, false},
		{"UnknownProductTakesNoNumber", order(domain.OrderSubmitted), domain.OrderDraft, domain.OrderFacts{}, domain.CodeValidation, false, 0, false},
		{"PastDraftKeepsFrozenPrices", order(domain.OrderConfirmed), domain.OrderSubmitted, domain.OrderFacts{}, "", false, 2, false},
		{"VisitOfTheAccount", withVisit(order(domain.OrderDraft), visit), domain.OrderDraft,
			domain.OrderFacts{Products: catalogue, Visit: domain.OrderVisit{Found: true, AccountID: acc}}, "", false, 500, true},
		{"VisitOfAnotherAccount", withVisit(order(domain.OrderDraft), visit), domain.OrderDraft,
			domain.OrderFacts{Products: catalogue, Visit: domain.OrderVisit{Found: true, AccountID: other}}, domain.CodeValidation, false, 0, true},
		{"UnknownVisit", withVisit(order(domain.OrderDraft), visit), domain.OrderDraft,
			domain.OrderFacts{Products: catalogue}, domain.CodeValidation, false, 0, true},
		{"DeletedVisitUnlinked", withVisit(order(domain.OrderDraft), visit), domain.OrderDraft,
			domain.OrderFacts{Products: catalogue, Visit: domain.OrderVisit{Deleted: true}}, "", false, 500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken := 0
			next := func() (string, error) { taken++; return "SO-1", nil }
			o := tc.o
			err := domain.FinishOrder(&o, tc.from, tc.facts, now, next)
			if (tc.wantCode == "" && err != nil) || (tc.wantCode != "" && domain.ErrorCode(err) != tc.wantCode) {
				t.Fatalf("err = %v, want code %q", err, tc.wantCode)
			}
			if (taken == 1) != tc.numbered || taken > 1 {
				t.Errorf("numbers taken: %d, want numbered %v", taken, tc.numbered)
			}
			if tc.numbered && (o.Number == nil || *o.Number != "SO-1" || o.SubmittedAt == nil || !o.SubmittedAt.Equal(now)) {
				t.Errorf("number %v, submitted_at %v", o.Number, o.SubmittedAt)
			}
			if err == nil && o.TotalCents != tc.wantTotal {
				t.Errorf("total = %d, want %d", o.TotalCents, tc.wantTotal)
			}
			if (o.VisitID != nil) != tc.linked {
				t.Errorf("visit_id = %v, want linked %v", o.VisitID, tc.linked)
			}
		})
	}
	t.Run("NumberingFails", func(t *testing.T) {
		o := order(domain.OrderSubmitted)
		boom := errors.New("sequence unavailable")
		err := domain.FinishOrder(&o, domain.OrderDraft, domain.OrderFacts{Products: catalogue}, now, func() (string, error) { return "", boom })
		if !errors.Is(err, boom) || o.Number != nil {
			t.Errorf("err = %v, number %v", err, o.Number)
		}
	})
}

func withVisit(o domain.Order, id string) domain.Order { o.VisitID = &id; return o }
