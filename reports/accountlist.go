package reports

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"

	"github.com/fieldsync/fieldsync/domain"
)

// ListedAccount is one row of an account list.
type ListedAccount struct {
	AccountID     string `json:"account_id"`
	Name          string `json:"name"`
	TerritoryID   string `json:"territory_id"`
	TerritoryName string `json:"territory_name"`
	Class         string `json:"class"`
	Status        string `json:"status"`
	LastVisitDate *Date  `json:"last_visit_date"`
}

// AccountList is one page of the accounts of a territory's subtree or of a
// rep's territories.
type AccountList struct {
	Items      []ListedAccount `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

type accountCursor struct {
	Name string `json:"n"`
	ID   string `json:"i"`
}

// Accounts lists, in name order and limit at a time, the accounts of the
// caller's scope narrowed to p.TerritoryID, and to the territories of rep
// repID when it is set (a rep outside the scope lists nothing, as one with
// no accounts). It reads what the overdue report reads, so the same roles may.
func (s *Service) Accounts(ctx context.Context, c domain.Caller, p Params, repID, cursor string, limit int) (AccountList, error) {
	out := AccountList{Items: []ListedAccount{}}
	var after accountCursor
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err == nil {
			err = json.Unmarshal(b, &after)
		}
		if err != nil || after.ID == "" {
			return out, badParam("cursor", "not a cursor of this list")
		}
	}
	sc, err := s.scopeOf(ctx, c, kindOverdue, p.TerritoryID)
	if err != nil || sc.empty() {
		return out, err
	}
	terrs := sc.Territories
	if sc.All {
		terrs = sc.Tree.IDs()
	}
	if repID != "" {
		mine, err := s.db.RepTerritories(ctx, repID)
		if err != nil {
			return out, err
		}
		terrs = slices.DeleteFunc(mine, func(t string) bool { return !sc.has(t) })
	}
	rows, err := s.db.AccountPage(ctx, terrs, after.Name, after.ID, limit+1)
	if err != nil {
		return out, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		b, _ := json.Marshal(accountCursor{Name: rows[limit-1].Name, ID: rows[limit-1].ID}) // plain struct
		next := base64.RawURLEncoding.EncodeToString(b)
		out.NextCursor = &next
	}
	for _, r := range rows {
		a := ListedAccount{AccountID: r.ID, Name: r.Name, TerritoryID: r.TerritoryID, TerritoryName: sc.name(r.TerritoryID),
			Class: r.Class, Status: r.Status}
		if r.LastVisitAt != nil {
			d := Date(day(*r.LastVisitAt))
			a.LastVisitDate = &d
		}
		out.Items = append(out.Items, a)
	}
	return out, nil
}
