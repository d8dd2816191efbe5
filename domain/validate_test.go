package domain_test

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

const (
	id1 = "0b6a8a52-5a7e-4c1e-9d36-1f5d2f6f0a01"
	id2 = "0b6a8a52-5a7e-4c1e-9d36-1f5d2f6f0a02"
	id3 = "0b6a8a52-5a7e-4c1e-9d36-1f5d2f6f0a03"
	id4 = "0b6a8a52-5a7e-4c1e-9d36-1f5d2f6f0a04"
)

var t0 = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func at(minutes int) *time.Time { return ptr(t0.Add(time.Duration(minutes) * time.Minute)) }

func visit() domain.Visit {
	return domain.Visit{ID: id1, AccountID: id2, RepID: id3, Status: domain.VisitPlanned, PlannedAt: t0}
}

func order() domain.Order {
	return domain.Order{ID: id1, AccountID: id2, RepID: id3, Status: domain.OrderDraft, Currency: "EUR"}
}

func line() domain.OrderLine {
	return domain.OrderLine{ProductID: id4, Quantity: 2, UnitPriceCents: 1250, DiscountPct: 1000}
}

// wantFields compares an error's field errors with want ("field: message").
func wantFields(t *testing.T, err *domain.Error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("want no error, got %v (%v)", err, err.Fields)
		}
		return
	}
	if err == nil {
		t.Fatalf("want %v, got no error", want)
	}
	if err.Code != domain.CodeValidation {
		t.Fatalf("code = %s, want %s", err.Code, domain.CodeValidation)
	}
	var got []string
	for _, f := range err.Fields {
		got = append(got, f.Field+": "+f.Message)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fields\n got %q\nwant %q", got, want)
	}
}

func TestValidateVisit(t *testing.T) {
	tests := []struct {
		name string
		edit func(*domain.Visit)
		want []string
	}{
		{"Planned", func(*domain.Visit) {}, nil},
		{"PlannedWithTimes", func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = at(0), at(5) }, nil},
		{"CancelledWithoutTimes", func(v *domain.Visit) { v.Status = domain.VisitCancelled }, nil},
		{"CheckedIn", func(v *domain.Visit) { v.Status, v.CheckedInAt = domain.VisitCheckedIn, at(0) }, nil},
		{"CheckedInWithoutTime", func(v *domain.Visit) { v.Status = domain.VisitCheckedIn },
			[]string{"checked_in_at: is required when status is checked_in"}},
		{"Completed", func(v *domain.Visit) {
			v.Status, v.CheckedInAt, v.CheckedOutAt = domain.VisitCompleted, at(0), at(30)
		}, nil},
		{"CompletedZeroLength", func(v *domain.Visit) {
			v.Status, v.CheckedInAt, v.CheckedOutAt = domain.VisitCompleted, at(0), at(0)
		}, nil},
		{"CompletedWithoutTimes", func(v *domain.Visit) { v.Status = domain.VisitCompleted },
			[]string{"checked_in_at: is required when status is completed", "checked_out_at: is required when status is completed"}},
		{"CompletedWithoutCheckOut", func(v *domain.Visit) { v.Status, v.CheckedInAt = domain.VisitCompleted, at(0) },
			[]string{"checked_out_at: is required when status is completed"}},
		{"CheckOutBeforeCheckIn", func(v *domain.Visit) {
			v.Status, v.CheckedInAt, v.CheckedOutAt = domain.VisitCompleted, at(30), at(0)
		}, []string{"checked_out_at: must not be before checked_in_at"}},
		{"CheckOutWithoutCheckIn", func(v *domain.Visit) { v.CheckedOutAt = at(0) },
			[]string{"checked_in_at: is required when checked_out_at is set"}},
		{"ZeroPlannedAt", func(v *domain.Visit) { v.PlannedAt = time.Time{} }, []string{"planned_at: is required"}},
		{"UnknownStatus", func(v *domain.Visit) { v.Status = "done" },
			[]string{"status: must be one of: planned cancelled checked_in completed"}},
		{"MissingStatus", func(v *domain.Visit) { v.Status = "" }, []string{"status: is required"}},
		{"BadIDs", func(v *domain.Visit) { v.ID, v.AccountID, v.RepID = "x", "", strings.ToUpper(id3) },
			[]string{"id: must be a UUID", "account_id: is required", "rep_id: must be a lower-case UUID"}},
		{"LatWithoutLng", func(v *domain.Visit) { v.CheckInLat = ptr(48.1) },
			[]string{"check_in_lng: is required when check_in_lat is set"}},
		{"LngWithoutLat", func(v *domain.Visit) { v.CheckInLng = ptr(11.5) },
			[]string{"check_in_lat: is required when check_in_lng is set"}},
		{"Position", func(v *domain.Visit) { v.CheckInLat, v.CheckInLng = ptr(-90.0), ptr(180.0) }, nil},
		{"PositionOutOfRange", func(v *domain.Visit) { v.CheckInLat, v.CheckInLng = ptr(90.5), ptr(-181.0) },
			[]string{"check_in_lat: must be at most 90", "check_in_lng: must be at least -180"}},
		{"NegativeDistance", func(v *domain.Visit) { v.CheckInDistanceM = ptr(-1.0) },
			[]string{"check_in_distance_m: must be at least 0"}},
		{"LongOutcome", func(v *domain.Visit) { v.Outcome = ptr(strings.Repeat("x", 65)) },
			[]string{"outcome: is too long (max 64)"}},
		{"LongReport", func(v *domain.Visit) { v.Report = ptr(strings.Repeat("é", 10001)) },
			[]string{"report: is too long (max 10000)"}},
		{"ReportAtLimit", func(v *domain.Visit) { v.Report = ptr(strings.Repeat("é", 10000)) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := visit()
			tt.edit(&v)
			wantFields(t, domain.ValidateVisit(v), tt.want...)
		})
	}
}

func TestValidateOrder(t *testing.T) {
	tests := []struct {
		name string
		edit func(*domain.Order)
		want []string
	}{
		{"EmptyDraft", func(*domain.Order) {}, nil},
		{"EmptyCancelled", func(o *domain.Order) { o.Status = domain.OrderCancelled }, nil},
		{"EmptySubmitted", func(o *domain.Order) { o.Status = domain.OrderSubmitted },
			[]string{"lines: must have at least one line unless the order is draft or cancelled"}},
		{"Submitted", func(o *domain.Order) { o.Status, o.Lines = domain.OrderSubmitted, []domain.OrderLine{line()} }, nil},
		{"BadLines", func(o *domain.Order) {
			bad := domain.OrderLine{ProductID: "nope", Quantity: 0, UnitPriceCents: -1, DiscountPct: 10001}
			neg := line()
			neg.DiscountPct = -1
			o.Lines = []domain.OrderLine{line(), bad, neg}
		}, []string{
			"lines[1].product_id: must be a UUID",
			"lines[1].quantity: must be at least 1",
			"lines[1].unit_price_cents: must be at least 0",
			"lines[1].discount_pct: must be between 0 and 100",
			"lines[2].discount_pct: must be between 0 and 100",
		}},
		{"DiscountBounds", func(o *domain.Order) {
			a, b := line(), line()
			a.DiscountPct, b.DiscountPct = 0, 10000
			o.Lines = []domain.OrderLine{a, b}
		}, nil},
		{"HugeQuantity", func(o *domain.Order) {
			l := line()
			l.Quantity = 1_000_001
			o.Lines = []domain.OrderLine{l}
		}, []string{"lines[0].quantity: must be at most 1000000"}},
		{"TooManyLines", func(o *domain.Order) { o.Lines = make([]domain.OrderLine, 501) },
			[]string{"lines: must have at most 500 items"}},
		{"Currency", func(o *domain.Order) { o.Currency = "eur" },
			[]string{"currency: must be an ISO 4217 currency code"}},
		{"UnknownCurrency", func(o *domain.Order) { o.Currency = "XYZ" },
			[]string{"currency: must be an ISO 4217 currency code"}},
		{"MissingCurrency", func(o *domain.Order) { o.Currency = "" }, []string{"currency: is required"}},
		{"Status", func(o *domain.Order) { o.Status = "paid" },
			[]string{"status: must be one of: draft submitted confirmed shipped delivered cancelled rejected"}},
		{"VisitID", func(o *domain.Order) { o.VisitID = ptr("v1") }, []string{"visit_id: must be a UUID"}},
		{"LongNote", func(o *domain.Order) { o.Note = ptr(strings.Repeat("n", 10001)) },
			[]string{"note: is too long (max 10000)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := order()
			tt.edit(&o)
			wantFields(t, domain.ValidateOrder(o), tt.want...)
		})
	}
}

func TestValidateNote(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"Body", "called, will order next week", nil},
		{"Empty", "", []string{"body: is required"}},
		{"Blank", " \n\t ", []string{"body: must not be blank"}},
		{"AtLimit", strings.Repeat("ü", 10000), nil},
		{"TooLong", strings.Repeat("ü", 10001), []string{"body: is too long (max 10000)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := domain.AccountNote{ID: id1, AccountID: id2, AuthorID: id3, Body: tt.body}
			wantFields(t, domain.ValidateNote(n), tt.want...)
		})
	}
	t.Run("ConflictOf", func(t *testing.T) {
		n := domain.AccountNote{ID: id1, AccountID: id2, AuthorID: "", Body: "x", ConflictOf: ptr("1")}
		wantFields(t, domain.ValidateNote(n), "author_id: is required", "conflict_of: must be a UUID")
	})
}

func TestValidateAccount(t *testing.T) {
	ok := domain.Account{ID: id1, Name: "Acme", TerritoryID: id2, Class: domain.ClassA, Status: domain.AccountActive}
	tests := []struct {
		name string
		edit func(*domain.Account)
		want []string
	}{
		{"Minimal", func(*domain.Account) {}, nil},
		{"Full", func(a *domain.Account) {
			a.OwnerID, a.Email, a.Phone, a.Address = ptr(id3), ptr("buyer@acme.example"), ptr("+49 89 1234"), ptr("Main St 1")
			a.Lat, a.Lng = ptr(48.137), ptr(11.575)
		}, nil},
		{"Email", func(a *domain.Account) { a.Email = ptr("not-an-email") }, []string{"email: must be a valid email"}},
		{"Class", func(a *domain.Account) { a.Class = "D" }, []string{"class: must be one of: A B C"}},
		{"Status", func(a *domain.Account) { a.Status = "" }, []string{"status: is required"}},
		{"LatOnly", func(a *domain.Account) { a.Lat = ptr(1.0) }, []string{"lng: is required when lat is set"}},
		{"LngOnly", func(a *domain.Account) { a.Lng = ptr(1.0) }, []string{"lat: is required when lng is set"}},
		{"Name", func(a *domain.Account) { a.Name = strings.Repeat("a", 201) }, []string{"name: is too long (max 200)"}},
		{"Territory", func(a *domain.Account) { a.TerritoryID = "t1" }, []string{"territory_id: must be a UUID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok
			tt.edit(&a)
			wantFields(t, domain.ValidateAccount(a), tt.want...)
		})
	}
}

func TestValidateProduct(t *testing.T) {
	ok := domain.Product{ID: id1, SKU: "SKU-1", Name: "Widget", UnitPriceCents: 999, Currency: "EUR", Active: true}
	wantFields(t, domain.ValidateProduct(ok))
	bad := ok
	bad.SKU, bad.UnitPriceCents, bad.Currency = "", 10_000_000_001, "EURO"
	wantFields(t, domain.ValidateProduct(bad),
		"sku: is required", "unit_price_cents: must be at most 10000000000", "currency: must be an ISO 4217 currency code")
}

func TestValidateTerritory(t *testing.T) {
	wantFields(t, domain.ValidateTerritory(domain.Territory{ID: id1, Name: "North", ParentID: ptr(id2)}))
	wantFields(t, domain.ValidateTerritory(domain.Territory{ID: id1, Name: "North", ParentID: ptr(id1)}),
		"parent_id: must not be the territory itself")
	wantFields(t, domain.ValidateTerritory(domain.Territory{ID: id1, ParentID: ptr("p")}),
		"name: is required", "parent_id: must be a UUID")
}

func TestValidate(t *testing.T) {
	type req struct {
		Email string   `json:"email" validate:"required,email"`
		Tags  []string `json:"tags" validate:"min=1,dive,max=3"`
		Skip  string   `json:"-" validate:"required"`
	}
	t.Run("Pointer", func(t *testing.T) {
		wantFields(t, domain.Validate(&req{Email: "a@b.example", Tags: []string{"x"}, Skip: "y"}))
	})
	t.Run("Nested", func(t *testing.T) {
		wantFields(t, domain.Validate(req{Email: "a@b.example", Tags: []string{"x", "long"}, Skip: "y"}),
			"tags[1]: is too long (max 3)")
	})
	t.Run("Slice", func(t *testing.T) {
		wantFields(t, domain.Validate(req{Email: "a", Skip: "y"}), "email: must be a valid email", "tags: must have at least 1 item")
	})
	t.Run("NotAStruct", func(t *testing.T) {
		if err := domain.Validate(42); err == nil || err.Code != domain.CodeInternal {
			t.Fatalf("Validate(42) = %v, want internal", err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := visit()
				v.Status = "bogus"
				if err := domain.ValidateVisit(v); err == nil || len(err.Fields) != 1 {
					t.Errorf("ValidateVisit = %v", err)
				}
			}()
		}
		wg.Wait()
	})
}

func TestIsUUID(t *testing.T) {
	tests := map[string]bool{
		id1:                                    true,
		"00000000-0000-0000-0000-000000000000": true,
		strings.ToUpper(id1):                   false,
		id1[:35]:                               false,
		id1 + "0":                              false,
		"0b6a8a52_5a7e-4c1e-9d36-1f5d2f6f0a01": false,
		"0b6a8a525a7e4c1e9d361f5d2f6f0a01":     false,
		"0b6a8a52-5a7e-4c1e-9d36-1f5d2f6f0a0g": false,
		"":                                     false,
	}
	for s, want := range tests {
		if got := domain.IsUUID(s); got != want {
			t.Errorf("IsUUID(%q) = %v, want %v", s, got, want)
		}
	}
}
