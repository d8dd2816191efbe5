package store

import (
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// Row structs mirror the tables one to one. They never leave this package: every
// function converts to and from domain types explicitly.

type territoryRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	ParentID  *string
	Version   int64
	UpdatedAt time.Time
}

func (territoryRow) TableName() string { return "territories" }

type userRow struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	Name         string
	Role         string
	PasswordHash string
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// DeactivatedAt is set while the user is deactivated (migration 00007).
	DeactivatedAt *time.Time
}

func (userRow) TableName() string { return "users" }

type userTerritoryRow struct {
	UserID      string `gorm:"primaryKey"`
	TerritoryID string `gorm:"primaryKey"`
}

func (userTerritoryRow) TableName() string { return "user_territories" }

type productRow struct {
	ID             string `gorm:"primaryKey"`
	SKU            string `gorm:"column:sku"`
	Name           string
	UnitPriceCents int64
	Currency       string
	Active         bool
	Version        int64
	UpdatedAt      time.Time
}

func (productRow) TableName() string { return "products" }

type accountRow struct {
	ID            string `gorm:"primaryKey"`
	Name          string
	TerritoryID   string
	OwnerID       *string
	Class         string
	Status        string
	Address       *string
	Phone         *string
	Email         *string
	Lat           *float64
	Lng           *float64
	FieldVersions string
	Version       int64
	UpdatedAt     time.Time
}

func (accountRow) TableName() string { return "accounts" }

type visitRow struct {
	ID               string `gorm:"primaryKey"`
	AccountID        string
	RepID            string
	Status           string
	PlannedAt        time.Time
	CheckedInAt      *time.Time
	CheckedOutAt     *time.Time
	CheckInLat       *float64
	CheckInLng       *float64
	CheckInDistanceM *float64
	Outcome          *string
	Report           *string
	FieldVersions    string
	Version          int64
	UpdatedAt        time.Time
}

func (visitRow) TableName() string { return "visits" }

type orderRow struct {
	ID            string `gorm:"primaryKey"`
	Number        *string
	AccountID     string
	RepID         string
	VisitID       *string
	Status        string
	Lines         string
	TotalCents    int64
	Currency      string
	Note          *string
	Reason        *string
	SubmittedAt   *time.Time
	FieldVersions string
	Version       int64
	UpdatedAt     time.Time
}

func (orderRow) TableName() string { return "orders" }

type noteRow struct {
	ID            string `gorm:"primaryKey"`
	AccountID     string
	AuthorID      string
	Body          string
	ConflictOf    *string
	FieldVersions string
	Version       int64
	UpdatedAt     time.Time
}

func (noteRow) TableName() string { return "account_notes" }

func meta(v int64, t time.Time) domain.Meta { return domain.Meta{Version: v, UpdatedAt: t.UTC()} }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r territoryRow) domain() domain.Territory {
	return domain.Territory{ID: r.ID, Name: r.Name, ParentID: r.ParentID, Meta: meta(r.Version, r.UpdatedAt)}
}

func toTerritoryRow(t domain.Territory) territoryRow {
	return territoryRow{ID: t.ID, Name: t.Name, ParentID: t.ParentID, Version: t.Version, UpdatedAt: t.UpdatedAt.UTC()}
}

func (r productRow) domain() domain.Product {
	return domain.Product{ID: r.ID, SKU: r.SKU, Name: r.Name, UnitPriceCents: r.UnitPriceCents,
		Currency: r.Currency, Active: r.Active, Meta: meta(r.Version, r.UpdatedAt)}
}

func toProductRow(p domain.Product) productRow {
	return productRow{ID: p.ID, SKU: p.SKU, Name: p.Name, UnitPriceCents: p.UnitPriceCents,
		Currency: p.Currency, Active: p.Active, Version: p.Version, UpdatedAt: p.UpdatedAt.UTC()}
}

func (r accountRow) domain() domain.Account {
	return domain.Account{ID: r.ID, Name: r.Name, TerritoryID: r.TerritoryID, OwnerID: r.OwnerID,
		Class: r.Class, Status: r.Status, Address: r.Address, Phone: r.Phone, Email: r.Email,
		Lat: r.Lat, Lng: r.Lng, Meta: meta(r.Version, r.UpdatedAt)}
}

func toAccountRow(a domain.Account, fv domain.FieldVersions) accountRow {
	return accountRow{ID: a.ID, Name: a.Name, TerritoryID: a.TerritoryID, OwnerID: a.OwnerID,
		Class: a.Class, Status: a.Status, Address: a.Address, Phone: a.Phone, Email: a.Email,
		Lat: a.Lat, Lng: a.Lng, FieldVersions: fv.Encode(), Version: a.Version, UpdatedAt: a.UpdatedAt.UTC()}
}

func (r visitRow) domain() domain.Visit {
	return domain.Visit{ID: r.ID, AccountID: r.AccountID, RepID: r.RepID, Status: r.Status,
		PlannedAt: r.PlannedAt.UTC(), CheckedInAt: utcPtr(r.CheckedInAt), CheckedOutAt: utcPtr(r.CheckedOutAt),
		CheckInLat: r.CheckInLat, CheckInLng: r.CheckInLng, CheckInDistanceM: r.CheckInDistanceM,
		Outcome: r.Outcome, Report: r.Report, Meta: meta(r.Version, r.UpdatedAt)}
}

func toVisitRow(v domain.Visit, fv domain.FieldVersions) visitRow {
	return visitRow{ID: v.ID, AccountID: v.AccountID, RepID: v.RepID, Status: v.Status,
		PlannedAt: v.PlannedAt.UTC(), CheckedInAt: utcPtr(v.CheckedInAt), CheckedOutAt: utcPtr(v.CheckedOutAt),
		CheckInLat: v.CheckInLat, CheckInLng: v.CheckInLng, CheckInDistanceM: v.CheckInDistanceM,
		Outcome: v.Outcome, Report: v.Report, FieldVersions: fv.Encode(), Version: v.Version, UpdatedAt: v.UpdatedAt.UTC()}
}

func (r orderRow) domain() domain.Order {
	o := domain.Order{ID: r.ID, Number: r.Number, AccountID: r.AccountID, RepID: r.RepID,
		VisitID: r.VisitID, Status: r.Status, TotalCents: r.TotalCents, Currency: r.Currency,
		Note: r.Note, Reason: r.Reason, SubmittedAt: utcPtr(r.SubmittedAt), Meta: meta(r.Version, r.UpdatedAt)}
	// Lines were written by toOrderRow from a validated slice; a decode failure
	// would be storage corruption, and an empty slice is the safe reading.
	_ = json.Unmarshal([]byte(r.Lines), &o.Lines)
	if o.Lines == nil {
		o.Lines = []domain.OrderLine{}
	}
	return o
}

func toOrderRow(o domain.Order, fv domain.FieldVersions) orderRow {
	lines := o.Lines
	if lines == nil {
		lines = []domain.OrderLine{}
	}
	b, _ := json.Marshal(lines) // a slice of plain structs always marshals
	return orderRow{ID: o.ID, Number: o.Number, AccountID: o.AccountID, RepID: o.RepID,
		VisitID: o.VisitID, Status: o.Status, Lines: string(b), TotalCents: o.TotalCents,
		Currency: o.Currency, Note: o.Note, Reason: o.Reason, SubmittedAt: utcPtr(o.SubmittedAt),
		FieldVersions: fv.Encode(), Version: o.Version, UpdatedAt: o.UpdatedAt.UTC()}
}

func (r noteRow) domain() domain.AccountNote {
	return domain.AccountNote{ID: r.ID, AccountID: r.AccountID, AuthorID: r.AuthorID, Body: r.Body,
		ConflictOf: r.ConflictOf, Meta: meta(r.Version, r.UpdatedAt)}
}

func toNoteRow(n domain.AccountNote, fv domain.FieldVersions) noteRow {
	return noteRow{ID: n.ID, AccountID: n.AccountID, AuthorID: n.AuthorID, Body: n.Body,
		ConflictOf: n.ConflictOf, FieldVersions: fv.Encode(), Version: n.Version, UpdatedAt: n.UpdatedAt.UTC()}
}
