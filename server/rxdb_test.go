package server_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// The RxDB endpoints as HTTP exchanges (each checked against openapi.json):
// a pull of one collection, a push answered with the server's document, a
// rejected create answered with a tombstone, and bad input.
func TestRxDB_Endpoints(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		var page struct {
			Documents  []map[string]any        `json:"documents"`
			Checkpoint struct{ Cursor string } `json:"checkpoint"`
		}
		o.as("rep1", "GET", "/v1/rxdb/accounts/pull?batchSize=10", "", 200, &page)
		if len(page.Documents) != 1 || page.Documents[0]["id"] != o.acc1 || page.Documents[0]["_deleted"] != false || page.Checkpoint.Cursor == "" {
			t.Fatalf("pull = %+v", page)
		}
		o.as("rep1", "GET", "/v1/rxdb/accounts/pull?cursor="+page.Checkpoint.Cursor, "", 200, &page)
		if len(page.Documents) != 0 {
			t.Fatalf("pull after the checkpoint = %+v", page.Documents)
		}

		note := uuid.NewString()
		body := fmt.Sprintf(`[{"assumedMasterState":null,"newDocumentState":{"id":%q,"account_id":%q,"body":"hello","_deleted":false}}]`, note, o.acc1)
		var docs []map[string]any
		o.as("rep1", "POST", "/v1/rxdb/account_notes/push", body, 200, &docs)
		if len(docs) != 1 || docs[0]["id"] != note || docs[0]["version"] != float64(1) || docs[0]["author_id"] != o.rep1 {
			t.Fatalf("push answer = %+v, want the server's document", docs)
		}
		// The same push again replays: same answer, no second write.
		o.as("rep1", "POST", "/v1/rxdb/account_notes/push", body, 200, &docs)
		if len(docs) != 1 || docs[0]["version"] != float64(1) {
			t.Fatalf("replayed push = %+v", docs)
		}

		bad := uuid.NewString()
		body = fmt.Sprintf(`[{"assumedMasterState":null,"newDocumentState":{"id":%q,"account_id":%q,"body":"not mine","_deleted":false}}]`, bad, o.acc2)
		o.as("rep1", "POST", "/v1/rxdb/account_notes/push", body, 200, &docs)
		if len(docs) != 1 || docs[0]["_deleted"] != true {
			t.Fatalf("rejected create answered %+v, want a tombstone", docs)
		}
		if e, _ := json.Marshal(docs[0]["fieldsync_error"]); !json.Valid(e) || docs[0]["fieldsync_error"].(map[string]any)["code"] != "not_found" {
			t.Fatalf("tombstone without fieldsync_error: %+v", docs[0])
		}

		o.failsAs("rep1", "GET", "/v1/rxdb/nope/pull", "", 404, domain.CodeNotFound)
		o.failsAs("rep1", "GET", "/v1/rxdb/accounts/pull?batchSize=0", "", 400, domain.CodeBadRequest)
		o.failsAs("rep1", "POST", "/v1/rxdb/accounts/push", `[{"newDocumentState":{}}]`, 422, domain.CodeValidation)
		o.failsAs("rep1", "POST", "/v1/rxdb/accounts/push", `{"rows":[]}`, 400, domain.CodeBadRequest)
	})
}
