package mobileapi

import (
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

type syncHandlers struct {
	sync SyncService
	deps Deps
}

func registerSync(r fiber.Router, d Deps) {
	h := syncHandlers{sync: d.Sync, deps: d}
	authenticated := httpapi.Authenticate(d.Auth)
	r.Get("/sync/pull", authenticated, h.pull)
	r.Get("/sync/stream", authenticated, h.stream)
	// The body is read only once the token is known good, and never past the
	// contract's 1 MiB, sent or decoded.
	r.Post("/sync/push", authenticated, httpapi.BodyLimit(wire.MaxPushBodyBytes), h.push)
}

func (h syncHandlers) pull(c *fiber.Ctx) error {
	limit, err := httpapi.QueryLimit(c, wire.DefaultPullLimit, wire.MaxPullLimit)
	if err != nil {
		return err
	}
	// Query values alias Fiber's buffer, which is reused after the handler.
	cursor := strings.Clone(c.Query("cursor"))
	resp, err := h.sync.Pull(c.UserContext(), httpapi.CallerOf(c), cursor, limit)
	if err != nil {
		return err
	}
	return sendJSON(c, resp.AppendJSON(make([]byte, 0, 128+len(resp.Changes)*400)))
}

// sendJSON writes an already encoded JSON body: pull pages and push results
// are encoded by hand (wire's AppendJSON), byte-identical to c.JSON but
// without reflection or re-compacting every row.
func sendJSON(c *fiber.Ctx, body []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

func (h syncHandlers) push(c *fiber.Ctx) error {
	var req wire.PushRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	if len(req.Mutations) > wire.MaxMutations {
		return domain.Errorf(domain.CodeTooLarge, "%d mutations in one push; at most %d", len(req.Mutations), wire.MaxMutations)
	}
	p := httpapi.CallerOf(c)
	if req.DeviceID != "" && req.DeviceID != p.DeviceID {
		return &domain.Error{Code: domain.CodeBadRequest, Message: "device_id does not match the device this token was issued to",
			Fields: []domain.FieldError{{Field: "device_id", Message: "must be the device of the token"}}}
	}
	if req.Pending != nil && *req.Pending < 0 {
		return &domain.Error{Code: domain.CodeBadRequest, Message: "invalid push body",
			Fields: []domain.FieldError{{Field: "pending", Message: "must be at least 0"}}}
	}
	switch req.Results {
	case "", wire.ResultsLean, wire.ResultsFull:
	default:
		return &domain.Error{Code: domain.CodeValidation, Message: "invalid push body",
			Fields: []domain.FieldError{{Field: "results", Message: "must be lean or full"}}}
	}
	resp, err := h.sync.Push(c.UserContext(), p, req)
	if err != nil {
		return err
	}
	if req.Results != wire.ResultsFull {
		leanResults(req.Mutations, resp.Results)
	}
	return sendJSON(c, resp.AppendJSON(make([]byte, 0, 64+len(resp.Results)*450)))
}

// leanResults replaces the row of each applied result by the fields the
// device does not have (wire.LeanFields): a pushed create used to echo its
// whole row, twice the bytes of the push itself. Merged and conflict results
// keep the whole row: the device cannot know it. The engine stores and replays
// whole rows; only the answer is lean, so a replay is lean too.
func leanResults(muts []wire.Mutation, results []wire.MutationResult) {
	for i := range results {
		r := &results[i]
		if r.Status != wire.StatusApplied || len(r.Row) == 0 || i >= len(muts) || muts[i].MutationID != r.MutationID {
			continue
		}
		if f, ok := wire.LeanFields(r.Row, muts[i].Row, muts[i].ID, r.Version); ok {
			r.Row, r.Fields = nil, f
		}
	}
}
