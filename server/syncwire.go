package server

import (
	fsync "github.com/fieldsync/fieldsync/sync"
)

// syncObserver feeds the sync engine's counts into Prometheus.
type syncObserver struct{ m *Metrics }

func (o syncObserver) ChangesServed(n int)   { o.m.SyncChanges.Add(float64(n)) }
func (o syncObserver) PushResult(s string)   { o.m.PushResults.WithLabelValues(s).Inc() }
func (o syncObserver) ConflictOpened(string) { o.m.ConflictsOpened.Inc() }

func newSyncEngine(s *Server) *fsync.Engine {
	return fsync.New(s.DB, fsync.Config{Currency: s.Cfg.Currency}, s.Logger, syncObserver{s.Metrics})
}
