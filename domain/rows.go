package domain

import "time"

// Synced table names, as they appear on the wire.
const (
	TableTerritories  = "territories"
	TableUsers        = "users"
	TableProducts     = "products"
	TableAccounts     = "accounts"
	TableVisits       = "visits"
	TableOrders       = "orders"
	TableAccountNotes = "account_notes"
)

// SyncedTables lists the synced tables in dependency order: a device applying an
// initial sync in this order never holds a row whose parent it has not seen.
var SyncedTables = []string{
	TableTerritories, TableUsers, TableProducts, TableAccounts,
	TableVisits, TableOrders, TableAccountNotes, TableTargets, TableAttachments,
}

// IsSyncedTable reports whether name is one of the synced tables.
func IsSyncedTable(name string) bool {
	for _, t := range SyncedTables {
		if t == name {
			return true
		}
	}
	return false
}

// Meta is what every synced row carries: the server-assigned version (1 on create,
// +1 on every change) and the server time of the last change.
type Meta struct {
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

type Territory struct {
	ID       string  `json:"id" validate:"required,uuid"`
	Name     string  `json:"name" validate:"required,max=200"`
	ParentID *string `json:"parent_id" validate:"omitempty,uuid"`
	Meta
}

// User is the synced projection of a user: no email, no password hash.
type User struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Role         Role     `json:"role"`
	TerritoryIDs []string `json:"territory_ids"`
	Meta
}

type Product struct {
	ID             string `json:"id" validate:"required,uuid"`
	SKU            string `json:"sku" validate:"required,max=64"`
	Name           string `json:"name" validate:"required,max=200"`
	UnitPriceCents int64  `json:"unit_price_cents" validate:"gte=0,lte=10000000000"`
	Currency       string `json:"currency" validate:"required,iso4217"`
	Active         bool   `json:"active"`
	Meta
}

// Account classes drive the visit cadence; statuses drive coverage (only active
// accounts count).
const (
	ClassA = "A"
	ClassB = "B"
	ClassC = "C"

	AccountProspect = "prospect"
	AccountActive   = "active"
	AccountInactive = "inactive"
)

type Account struct {
	ID          string   `json:"id" validate:"required,uuid"`
	Name        string   `json:"name" validate:"required,max=200"`
	TerritoryID string   `json:"territory_id" validate:"required,uuid"`
	OwnerID     *string  `json:"owner_id" validate:"omitempty,uuid"`
	Class       string   `json:"class" validate:"required,oneof=A B C"`
	Status      string   `json:"status" validate:"required,oneof=prospect active inactive"`
	Address     *string  `json:"address" validate:"omitempty,max=500"`
	Phone       *string  `json:"phone" validate:"omitempty,max=50"`
	Email       *string  `json:"email" validate:"omitempty,max=254,email"`
	Lat         *float64 `json:"lat" validate:"omitempty,gte=-90,lte=90"`
	Lng         *float64 `json:"lng" validate:"omitempty,gte=-180,lte=180"`
	Meta
}

// Visit statuses, in the order the visit merge policy ranks them.
const (
	VisitPlanned   = "planned"
	VisitCancelled = "cancelled"
	VisitCheckedIn = "checked_in"
	VisitCompleted = "completed"
)

type Visit struct {
	ID               string     `json:"id" validate:"required,uuid"`
	AccountID        string     `json:"account_id" validate:"required,uuid"`
	RepID            string     `json:"rep_id" validate:"required,uuid"`
	Status           string     `json:"status" validate:"required,oneof=planned cancelled checked_in completed"`
	PlannedAt        time.Time  `json:"planned_at" validate:"required"`
	CheckedInAt      *time.Time `json:"checked_in_at"`
	CheckedOutAt     *time.Time `json:"checked_out_at"`
	CheckInLat       *float64   `json:"check_in_lat" validate:"omitempty,gte=-90,lte=90"`
	CheckInLng       *float64   `json:"check_in_lng" validate:"omitempty,gte=-180,lte=180"`
	CheckInDistanceM *float64   `json:"check_in_distance_m" validate:"omitempty,gte=0"`
	Outcome          *string    `json:"outcome" validate:"omitempty,max=64"`
	Report           *string    `json:"report" validate:"omitempty,max=10000"`
	Meta
}

// Order statuses.
const (
	OrderDraft     = "draft"
	OrderSubmitted = "submitted"
	OrderConfirmed = "confirmed"
	OrderShipped   = "shipped"
	OrderDelivered = "delivered"
	OrderCancelled = "cancelled"
	OrderRejected  = "rejected"
)

// OrderStatuses lists every order status in the state machine's order (how
// reports list them).
func OrderStatuses() []string {
	return []string{OrderDraft, OrderSubmitted, OrderConfirmed, OrderShipped, OrderDelivered, OrderCancelled, OrderRejected}
}

// OrderLine caps quantity at 1e6 and unit price at 1e10 cents so that the total of
// a full order (500 lines) stays inside int64 with room to spare.
//
// A client sets ProductID, Quantity and DiscountPct. UnitPriceCents is set by
// the server from the catalogue (and by the device SDK, for display): a value a
// client sends is overwritten, never used. DiscountPct is in percent with two
// decimals, 0 to 100: 12.5 on the wire is 12.5 %, held as Percent(1250).
type OrderLine struct {
	ProductID      string  `json:"product_id" validate:"required,uuid"`
	Quantity       int64   `json:"quantity" validate:"gte=1,lte=1000000"`
	UnitPriceCents int64   `json:"unit_price_cents" validate:"gte=0,lte=10000000000"`
	DiscountPct    Percent `json:"discount_pct" validate:"percent"`
}

type Order struct {
	ID          string      `json:"id" validate:"required,uuid"`
	Number      *string     `json:"number" validate:"omitempty,max=64"`
	AccountID   string      `json:"account_id" validate:"required,uuid"`
	RepID       string      `json:"rep_id" validate:"required,uuid"`
	VisitID     *string     `json:"visit_id" validate:"omitempty,uuid"`
	Status      string      `json:"status" validate:"required,oneof=draft submitted confirmed shipped delivered cancelled rejected"`
	Lines       []OrderLine `json:"lines" validate:"max=500,dive"`
	TotalCents  int64       `json:"total_cents"`
	Currency    string      `json:"currency" validate:"required,iso4217"`
	Note        *string     `json:"note" validate:"omitempty,max=10000"`
	Reason      *string     `json:"reason" validate:"omitempty,max=1000"`
	SubmittedAt *time.Time  `json:"submitted_at"`
	Meta
}

type AccountNote struct {
	ID         string  `json:"id" validate:"required,uuid"`
	AccountID  string  `json:"account_id" validate:"required,uuid"`
	AuthorID   string  `json:"author_id" validate:"required,uuid"`
	Body       string  `json:"body" validate:"required,notblank,max=10000"`
	ConflictOf *string `json:"conflict_of" validate:"omitempty,uuid"`
	Meta
}
