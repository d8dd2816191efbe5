package server

import (
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

// The ERP's side of the hand-off (docs/api.md, "ERP status import"): ops
// issue API keys under /v1/admin; the ERP reports shipped and delivered
// orders under /v1/erp with one.

// Request bodies are small: one report is a few hundred bytes.
const (
	erpReportBodyLimit = 4 << 10
	erpBatchBodyLimit  = 128 << 10
	erpBatchMax        = 100
)

// erpStatusRequest is one report on the order the path names.
type erpStatusRequest struct {
	ERPRef      string     `json:"erp_ref"`
	Status      string     `json:"status"`
	ShippedAt   *time.Time `json:"shipped_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
}

// erpBatchRequest is several reports, applied in order, each on its own.
// Each report is decoded on its own, so a malformed one is rejected alone.
type erpBatchRequest struct {
	Reports []json.RawMessage `json:"reports"`
}

// erpBatchResult is one report's outcome in a batch: applied (with the
// order's status and version) or rejected (with the error a single report
// would have been answered).
type erpBatchResult struct {
	ERPRef  string            `json:"erp_ref"`
	OrderID string            `json:"order_id"`
	Result  string            `json:"result"`
	Status  string            `json:"status,omitempty"`
	Version int64             `json:"version,omitempty"`
	Error   *wire.ErrorDetail `json:"error,omitempty"`
}

type erpBatchResponse struct {
	Results []erpBatchResult `json:"results"`
}

// registerAPIKeys adds ops' API key endpoints to g, the ops-only /v1/admin group.
func (s *Server) registerAPIKeys(g fiber.Router) {
	g.Post("/api-keys", create(s.Auth.CreateAPIKey))
	g.Get("/api-keys", func(c *fiber.Ctx) error {
		items, err := s.Auth.ListAPIKeys(c.UserContext())
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	})
	g.Delete("/api-keys/:id", func(c *fiber.Ctx) error {
		id, err := httpapi.ParamUUID(c, "id")
		if err != nil {
			return err
		}
		if _, err := s.Auth.RevokeAPIKey(c.UserContext(), id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// registerERP adds the ERP's status import under r (the /v1 group).
func (s *Server) registerERP(r fiber.Router) {
	svc := backoffice.NewERPImport(s.DB)
	g := r.Group("/erp", httpapi.AuthenticateAPIKey(s.Auth, domain.ActImportOrderStatus))
	g.Post("/orders/:id/status", httpapi.BodyLimit(erpReportBodyLimit), func(c *fiber.Ctx) error {
		id, err := httpapi.ParamUUID(c, "id")
		if err != nil {
			return domain.RowNotFound(domain.TableOrders)
		}
		var in erpStatusRequest
		if err := httpapi.DecodeJSON(c, &in); err != nil {
			return err
		}
		out, err := svc.Report(c.UserContext(), httpapi.IntegrationOf(c), domain.ERPReport{ERPRef: in.ERPRef,
			OrderID: id, Status: in.Status, ShippedAt: in.ShippedAt, DeliveredAt: in.DeliveredAt})
		if err != nil {
			return err
		}
		return c.JSON(out)
	})
	g.Post("/order-status", httpapi.BodyLimit(erpBatchBodyLimit), func(c *fiber.Ctx) error {
		var in erpBatchRequest
		if err := httpapi.DecodeJSON(c, &in); err != nil {
			return err
		}
		switch {
		case len(in.Reports) == 0:
			return domain.Invalid(domain.FieldError{Field: "reports", Message: "must hold at least one report"})
		case len(in.Reports) > erpBatchMax:
			return domain.Errorf(domain.CodeTooLarge, "at most %d reports per request", erpBatchMax)
		}
		out := erpBatchResponse{Results: make([]erpBatchResult, len(in.Reports))}
		for i, raw := range in.Reports {
			out.Results[i] = s.erpResult(c, raw, svc)
		}
		return c.JSON(out)
	})
}

// erpResult applies one report of a batch; its failure is its own.
func (s *Server) erpResult(c *fiber.Ctx, raw json.RawMessage, svc *backoffice.ERPImport) erpBatchResult {
	var rep domain.ERPReport
	err := httpapi.DecodeBytes(raw, &rep)
	if err != nil {
		// Echo what can be read of a malformed report, so the ERP can match it.
		var loose struct{ ERPRef, OrderID any }
		_ = json.Unmarshal(raw, &struct {
			ERPRef  *any `json:"erp_ref"`
			OrderID *any `json:"order_id"`
		}{&loose.ERPRef, &loose.OrderID})
		rep.ERPRef, _ = loose.ERPRef.(string)
		rep.OrderID, _ = loose.OrderID.(string)
	}
	res := erpBatchResult{ERPRef: rep.ERPRef, OrderID: rep.OrderID}
	var applied backoffice.ERPApplied
	if err == nil {
		applied, err = svc.Report(c.UserContext(), httpapi.IntegrationOf(c), rep)
	}
	if err == nil {
		res.Result, res.Status, res.Version = "applied", applied.Status, applied.Version
		return res
	}
	e := domain.AsError(err)
	if e == nil || httpapi.Status(e.Code) >= 500 {
		s.Logger.ErrorContext(c.UserContext(), "erp report failed", "error", err.Error(), "erp_ref", rep.ERPRef,
			"request_id", httpapi.RequestIDOf(c))
		e = domain.Errorf(domain.CodeInternal, "internal error")
	}
	res.Result, res.Error = "rejected", &wire.ErrorDetail{Code: string(e.Code), Message: e.Message, Fields: e.Fields}
	return res
}
