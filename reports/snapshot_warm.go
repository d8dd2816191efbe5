package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// WarmSnapshots loads the organisation's snapshots of the windows a director
// opens first (coverage and orders over the default from and to, the KPI
// report of the current month as of today: the dashboard's and the API's
// defaults) when the organisation is large enough for its directors to read
// snapshots at all. Without it the first director after a server start waits
// for every load: on the 988k-account fixture 6.4 s for the KPI report, 1.9 s
// for coverage and 0.7 s for orders (docs/benchmarks.md). Like any snapshot,
// these stay warm only while somebody reads them (Snapshots.Refresh). now is
// the organisation's clock, as the report parameters read it.
func (s *Service) WarmSnapshots(ctx context.Context, now time.Time) error {
	if !s.snaps.enabled() && !s.kpiSnaps.enabled() {
		return nil
	}
	var n int64
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = store.CountTerritories(tx)
		return err
	}); err != nil {
		return fmt.Errorf("warm report snapshots: %w", err)
	}
	if s.kpiSnaps.coversSize(int(n)) {
		p, err := ParseKPIParams(now, "", "", "")
		if err != nil {
			return fmt.Errorf("warm report snapshots: %w", err)
		}
		_, wins := kpiCalendar(p)
		if _, err := s.kpiSnapshot(ctx, p, wins); err != nil {
			return fmt.Errorf("warm KPI snapshot: %w", err)
		}
	}
	if s.snaps.coversSize(int(n)) {
		p, err := ParseParams(now, "", "", "")
		if err != nil {
			return fmt.Errorf("warm report snapshots: %w", err)
		}
		if _, err := s.coverageSnapshot(ctx, p); err != nil {
			return fmt.Errorf("warm coverage snapshot: %w", err)
		}
		if _, err := s.ordersSnapshot(ctx, p); err != nil {
			return fmt.Errorf("warm orders snapshot: %w", err)
		}
	}
	return nil
}
