package server

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// SetReplicaProbe replaces how s measures its replica's lag, so tests decide
// the verdict instead of waiting for a real standby to fall behind.
func SetReplicaProbe(s *Server, probe func(context.Context) (time.Duration, error)) {
	s.replica.probe = probe
}

// CheckReplica runs one probe (Serve runs one a second).
func CheckReplica(s *Server) { s.replica.check(context.Background()) }

// ReadDB is the database replica-tolerant reads use now.
func ReadDB(s *Server) *store.DB { return s.readDB() }

// EndDrain ends the drain delay of a server shutting down.
func EndDrain(s *Server) { close(s.drainCut) }
