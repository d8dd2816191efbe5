package reports

import (
	"context"
	"sort"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// kpiInputs are the rows the KPI report is computed from, before targets
// (read per request: a target set shows at once) and the tree (the scope's):
// the facts and visits of kpiFacts, the reps assigned to the scope's
// territories, and the name of every rep those rows name.
type kpiInputs struct {
	facts    []kpiFactRow
	visits   []activityAgg
	assigned []store.KPIRep
	names    map[string]string
	// byName, in a snapshot, is every rep of its rows sorted by (name, id):
	// a narrowed report keeps the order instead of sorting tens of thousands
	// of reps per request. nil: sort them.
	byName []string
	// built, in a snapshot answered whole (a director's), is its rows added
	// up, once for every request (buildKPI). nil: add them up.
	built *kpiBuilt
}

// kpiInputs reads the report's rows for sc: from the organisation's
// snapshot narrowed to sc when sc is large (Snapshots), else from the tables.
func (s *Service) kpiInputs(ctx context.Context, sc scope, p KPIParams, wins kpiWindows) (kpiInputs, error) {
	if s.kpiSnaps.covers(sc) {
		in, err := s.kpiSnapshot(ctx, p, wins)
		if err == nil {
			return in.narrow(sc), nil
		}
		// The facts hold days of another zone (checkZone): read the orders
		// themselves, as a small scope does.
		if domain.ErrorCode(err) != domain.CodeUnavailable {
			return kpiInputs{}, err
		}
	}
	return s.kpiRead(ctx, sc, wins)
}

// kpiRead reads the report's rows for sc from the tables: the facts, or the
// orders themselves when the facts hold days of another zone than the
// service's (kpiDirect).
func (s *Service) kpiRead(ctx context.Context, sc scope, wins kpiWindows) (kpiInputs, error) {
	var in kpiInputs
	direct := false
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if err := s.checkZone(tx); err != nil {
			if domain.ErrorCode(err) == domain.CodeUnavailable {
				direct = true
				return nil
			}
			return err
		}
		if err := s.kpiSession(tx); err != nil {
			return err
		}
		var err error
		in.facts, in.visits, err = s.kpiFacts(tx, sc, wins)
		return err
	})
	if err == nil && direct {
		in.facts, in.visits, err = s.kpiDirect(ctx, sc, wins)
	}
	if err != nil {
		return in, err
	}
	return in, s.kpiReps(ctx, sc, &in)
}

// kpiSession sets up the transaction of the facts statement: the report
// memory, and no JIT (the statement is costed far above jit_above_cost at
// scale, and compiling took 15–30 % of its time at scale 330:
// docs/benchmarks.md "The KPI report from snapshots").
func (s *Service) kpiSession(tx *store.Tx) error {
	if err := s.reportMemory(tx); err != nil {
		return err
	}
	return tx.NoJIT()
}

// kpiReps adds to in the reps assigned to sc's territories and the names of
// every rep in's rows name.
func (s *Service) kpiReps(ctx context.Context, sc scope, in *kpiInputs) error {
	var terrs []string // nil: everything
	if !sc.All {
		terrs = sc.Territories
	}
	var err error
	if in.assigned, err = s.db.KPIAssignedReps(ctx, terrs); err != nil {
		return err
	}
	in.names = map[string]string{}
	for _, a := range in.assigned {
		in.names[a.UserID] = a.Name
	}
	var unnamed []string
	for _, id := range in.repIDs() {
		if _, ok := in.names[id]; !ok {
			unnamed = append(unnamed, id)
		}
	}
	more, err := s.db.UserNames(ctx, unnamed)
	if err != nil {
		return err
	}
	for id, n := range more {
		in.names[id] = n
	}
	return nil
}

// kpiSnapshot returns the organisation's KPI rows for the report's windows
// from s.kpiSnaps, reading them when there is none young enough. Its rep rows
// are per territory (kpiFactsByTerritory), so that a scope keeps its own.
//
// The key is the resolved windows, not the parameters: as_of defaults to the
// organisation's today, so a request after midnight names another window and
// never reads the day before's snapshot, and two as_of past a period's end
// share one. The zone is in the key, and a load checks the tables hold days
// of it. Targets are not in it: each request reads its own.
func (s *Service) kpiSnapshot(ctx context.Context, p KPIParams, wins kpiWindows) (*kpiInputs, error) {
	key := snapKey{report: "kpis", period: p.Period.Name, from: wins.cur.from.Format(time.DateOnly),
		to: wins.cur.to.Format(time.DateOnly), zone: s.Location().String()}
	v, err := s.kpiSnaps.get(ctx, key, func(ctx context.Context) (any, error) {
		var in kpiInputs
		err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
			if err := s.checkZone(tx); err != nil {
				return err
			}
			if err := s.kpiSession(tx); err != nil {
				return err
			}
			var err error
			in.facts, in.visits, err = s.kpiFactsByTerritory(tx, wholeOrganisation, wins)
			return err
		})
		if err == nil {
			err = s.kpiReps(ctx, wholeOrganisation, &in)
		}
		if err != nil {
			return nil, err
		}
		in.byName = in.sortedReps()
		in.built = buildKPI(in)
		return &in, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*kpiInputs), nil
}

// territory is the territory of the accounts r counts, on rows read per
// territory.
func (r kpiFactRow) territory() string {
	if r.Kind == "t" {
		return r.ID
	}
	return r.TerritoryID
}

// sortedReps is every rep in's rows name, by (name, id) as Go compares
// strings: the order the rep cursor relies on.
func (in *kpiInputs) sortedReps() []string {
	ids := in.repIDs()
	sortRepIDs(ids, in.names)
	return ids
}

// repIDs is every rep in's rows name, once each: the reps of the fact rows,
// of the visits and the assigned ones.
func (in *kpiInputs) repIDs() []string {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, f := range in.facts {
		if f.Kind == "r" {
			add(f.ID)
		}
	}
	for _, v := range in.visits {
		add(v.RepID)
	}
	for _, a := range in.assigned {
		add(a.UserID)
	}
	return ids
}

func sortRepIDs(ids []string, names map[string]string) {
	sort.Slice(ids, func(i, j int) bool {
		if names[ids[i]] != names[ids[j]] {
			return names[ids[i]] < names[ids[j]]
		}
		return ids[i] < ids[j]
	})
}

// narrow is the organisation's rows in narrowed to sc's territories; the
// snapshot's rows themselves, added up already, when sc is the whole
// organisation. Its names and order are the snapshot's, shared read-only.
func (in *kpiInputs) narrow(sc scope) kpiInputs {
	keep := sc.keep()
	if keep == nil {
		return *in
	}
	out := kpiInputs{names: in.names, byName: in.byName}
	for _, f := range in.facts {
		if keep(f.territory()) {
			out.facts = append(out.facts, f)
		}
	}
	for _, v := range in.visits {
		if keep(v.TerritoryID) {
			out.visits = append(out.visits, v)
		}
	}
	for _, a := range in.assigned {
		if keep(a.TerritoryID) {
			out.assigned = append(out.assigned, a)
		}
	}
	return out
}
