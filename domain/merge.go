package domain

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"time"
)

// MergeOutcome is what a merge decided beyond the merged row (docs/protocol.md §4.3).
// A field is "both-changed" when the server changed it since the device's
// base_version, the device changed it too, and the two values differ.
type MergeOutcome struct {
	Conflict   string   // non-empty: write nothing, open a conflict with this reason
	ServerLost []string // both-changed fields where the device value replaced the server value
	DeviceLost []string // both-changed fields where the server value was kept
	NoteCopy   *string  // notes: device body to save as a new note with conflict_of
	// TransitionFrom, for visits, is the status the merged row's status change
	// is judged from (CheckVisitTransition) when it is not the server's; empty
	// means the server's.
	TransitionFrom string
}

// Every merge takes: the current server row, the device's patch applied onto it
// (patched), the fields the server changed since base_version and the fields the
// patch changed. Fields only the device changed take the device's value; fields
// only the server changed keep the server's; both-changed fields follow the
// table's rule.

// MergeVisit: the further status wins (a visit that happened beats a
// cancellation), the earlier check-in and the later check-out win, and anything
// else both sides wrote, report and outcome included, goes to the device.
//
// When the device's visit beats a cancellation made on the server since its
// base version, the device's move (planned to in progress or completed) is
// judged from where the visit was before it was cancelled: TransitionFrom is
// planned, since no move leaves a cancelled visit.
func MergeVisit(server, patched Visit, serverChanged, deviceChanged []string) (Visit, MergeOutcome) {
	merged, out := mergeVisitFields(server, patched, serverChanged, deviceChanged)
	if server.Status == VisitCancelled && merged.Status != server.Status && contains(serverChanged, "status") {
		out.TransitionFrom = VisitPlanned
	}
	return merged, out
}

func mergeVisitFields(server, patched Visit, serverChanged, deviceChanged []string) (Visit, MergeOutcome) {
	return mergeFields(server, patched, serverChanged, deviceChanged, func(field string) bool {
		switch field {
		case "status":
			return VisitRank(patched.Status) > VisitRank(server.Status)
		case "checked_in_at":
			return patched.CheckedInAt != nil && (server.CheckedInAt == nil || patched.CheckedInAt.Before(*server.CheckedInAt))
		case "checked_out_at":
			return patched.CheckedOutAt != nil && (server.CheckedOutAt == nil || patched.CheckedOutAt.After(*server.CheckedOutAt))
		}
		return true
	})
}

// MergeOrder: once the order desk has acted on an order, or both sides edited
// its lines, a person decides (the lines are one basket, not fields to mix).
// Otherwise the device wins both-changed fields.
func MergeOrder(server, patched Order, serverChanged, deviceChanged []string) (Order, MergeOutcome) {
	changed := differing(server, patched, deviceChanged)
	switch {
	case len(changed) == 0:
		return server, MergeOutcome{}
	case OrderPastSubmitted(server.Status):
		return server, MergeOutcome{Conflict: "order already " + server.Status}
	case contains(changed, "lines") && contains(serverChanged, "lines"):
		return server, MergeOutcome{Conflict: "lines changed on both sides"}
	}
	return mergeFields(server, patched, serverChanged, deviceChanged, func(string) bool { return true })
}

// MergeNote: a body both sides rewrote is kept as the server has it, and the
// device's text survives as a new note (NoteCopy) rather than being lost or
// spliced.
func MergeNote(server, patched AccountNote, serverChanged, deviceChanged []string) (AccountNote, MergeOutcome) {
	merged, out := mergeFields(server, patched, serverChanged, deviceChanged, func(field string) bool {
		return field != "body"
	})
	if contains(out.DeviceLost, "body") {
		body := patched.Body
		out.NoteCopy = &body
	}
	return merged, out
}

// MergeAccount: the device wins both-changed fields (reps edit only contact
// fields, which the caller enforces).
func MergeAccount(server, patched Account, serverChanged, deviceChanged []string) (Account, MergeOutcome) {
	return mergeFields(server, patched, serverChanged, deviceChanged, func(string) bool { return true })
}

// mergeFields starts from the server row and copies in each field the device
// changed, asking deviceWins only for both-changed fields.
func mergeFields[T any](server, patched T, serverChanged, deviceChanged []string, deviceWins func(field string) bool) (T, MergeOutcome) {
	var out MergeOutcome
	merged := server
	mv := reflect.ValueOf(&merged).Elem()
	pv := reflect.ValueOf(&patched).Elem()
	fields := jsonFields(mv.Type())
	for _, k := range differing(server, patched, deviceChanged) {
		if contains(serverChanged, k) {
			if !deviceWins(k) {
				out.DeviceLost = append(out.DeviceLost, k)
				continue
			}
			out.ServerLost = append(out.ServerLost, k)
		}
		idx := fields[k].index
		mv.FieldByIndex(idx).Set(pv.FieldByIndex(idx))
	}
	return merged, out
}

// differing returns the sorted, distinct fields of keys that are fields of T
// and whose values differ between a and b.
func differing[T any](a, b T, keys []string) []string {
	av, bv := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	fields := jsonFields(av.Type())
	var out []string
	for _, k := range keys {
		f, ok := fields[k]
		if ok && !contains(out, k) && !sameValue(av.FieldByIndex(f.index), bv.FieldByIndex(f.index)) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// sameValue compares two field values as the wire would, except that times are
// compared as instants: the same moment read back in another zone is no change.
func sameValue(a, b reflect.Value) bool {
	if ta, ok := a.Interface().(*time.Time); ok {
		tb := b.Interface().(*time.Time)
		return (ta == nil) == (tb == nil) && (ta == nil || ta.Equal(*tb))
	}
	if ta, ok := a.Interface().(time.Time); ok {
		return ta.Equal(b.Interface().(time.Time))
	}
	if a.Kind() == reflect.Slice && a.Len() == 0 && b.Len() == 0 {
		return true // null and [] are both "no lines"
	}
	ja, errA := json.Marshal(a.Interface())
	jb, errB := json.Marshal(b.Interface())
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
	return bytes.Equal(ja, jb)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
