package server

import (
	"github.com/fieldsync/fieldsync/mobileapi"
	"github.com/fieldsync/fieldsync/sync/watermelon"
)

// routes lists every route of the server; /openapi.json documents each one.
func (s *Server) routes() {
	s.App.Get("/healthz", s.healthz)
	s.App.Get("/readyz", s.readyz)
	s.App.Get("/metrics", s.refreshGauges, s.Metrics.handler())
	s.App.Get("/openapi.json", serveOpenAPI)

	v1 := s.App.Group("/v1")
	mobileapi.Register(v1, mobileapi.Deps{Auth: s.Auth, Sync: s.Sync, Logger: s.Logger,
		Scope: s.Sync, Engine: s.Sync, Hub: s.Hub, Stream: s.Cfg.Stream,
		Watermelon: watermelon.New(s.Sync, s.DB), AcceptsGzip: acceptsGzip})
	s.registerExports(v1) // before reports and orders: see registerExports
	s.registerAdmin(v1)
	s.registerReports(v1)
	s.registerConflicts(v1)
	s.registerOrders(v1)
	s.registerVisits(v1)
	s.registerTargets(v1)
	s.registerAttachments(v1)
	s.registerERP(v1)
	s.registerDashboard(s.App)
}
