package backoffice_test

import (
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/backoffice"
)

func TestOptional_UnmarshalJSON(t *testing.T) {
	var p backoffice.AccountPatch
	if err := json.Unmarshal([]byte(`{"name": "Acme", "owner_id": null, "lat": 1.5}`), &p); err != nil {
		t.Fatal(err)
	}
	if !p.Name.Set || p.Name.Null || p.Name.Value != "Acme" {
		t.Errorf("name = %+v", p.Name)
	}
	if !p.OwnerID.Set || !p.OwnerID.Null {
		t.Errorf("owner_id = %+v, want present and null", p.OwnerID)
	}
	if p.Address.Set || !p.Lat.Set || p.Lat.Value != 1.5 {
		t.Errorf("address = %+v, lat = %+v", p.Address, p.Lat)
	}
	if err := json.Unmarshal([]byte(`{"lat": "north"}`), &p); err == nil {
		t.Error("a string decoded into a float field")
	}
	b, err := json.Marshal(backoffice.AccountPatch{Name: backoffice.Some("X"), OwnerID: backoffice.Null[string]()})
	if err != nil || string(b) != `{"name":"X","owner_id":null}` {
		t.Errorf("marshal = %s, %v", b, err)
	}
}
