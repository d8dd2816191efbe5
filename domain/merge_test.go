package domain_test

import (
	"reflect"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

// mergeCase describes one merge: base is the row both sides started from;
// server and device are the edits each side made to it. The test derives what
// the caller would pass: the server row, the device's changes applied onto the
// server row, and which fields each side changed.
type mergeCase[T any] struct {
	name       string
	server     func(*T)
	device     func(*T)
	want       func(*T) // edits of base that give the merged row
	serverLost []string
	deviceLost []string
	conflict   string
	noteCopy   *string
	// transitionFrom: a device's visit beat a cancellation and is judged from
	// planned.
	transitionFrom string
}

func runMerge[T any](t *testing.T, base T, tests []mergeCase[T], merge func(server, patched T, sc, dc []string) (T, domain.MergeOutcome)) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, device := base, base
			tt.server(&server)
			tt.device(&device)
			serverChanged := domain.ChangedFields(base, server)
			deviceChanged := domain.ChangedFields(base, device)
			patched := server
			pv, dv := reflect.ValueOf(&patched).Elem(), reflect.ValueOf(device)
			for i := 0; i < pv.NumField(); i++ {
				if name := jsonTag(pv.Type().Field(i)); contains(deviceChanged, name) {
					pv.Field(i).Set(dv.Field(i))
				}
			}
			want := server
			if tt.conflict == "" {
				want = base
				tt.want(&want)
			}
			got, out := merge(server, patched, serverChanged, deviceChanged)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("merged row\n got %+v\nwant %+v", got, want)
			}
			wantOut := domain.MergeOutcome{Conflict: tt.conflict, ServerLost: tt.serverLost, DeviceLost: tt.deviceLost, NoteCopy: tt.noteCopy, TransitionFrom: tt.transitionFrom}
			if !reflect.DeepEqual(out, wantOut) {
				t.Errorf("outcome = %+v, want %+v", out, wantOut)
			}
		})
	}
}

func jsonTag(f reflect.StructField) string {
	name, _, _ := cut(f.Tag.Get("json"), ',')
	return name
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestMergeVisit_Fields(t *testing.T) {
	base := visit()
	base.Report, base.Outcome = ptr("base report"), ptr("none")
	tests := []mergeCase[domain.Visit]{
		{
			name:   "OnlyDevice",
			server: func(*domain.Visit) {},
			device: func(v *domain.Visit) { v.Status, v.CheckedInAt = domain.VisitCheckedIn, at(0) },
			want:   func(v *domain.Visit) { v.Status, v.CheckedInAt = domain.VisitCheckedIn, at(0) },
		},
		{
			name:   "EachSideItsOwnFields",
			server: func(v *domain.Visit) { v.PlannedAt = t0.Add(24 * 60 * 60e9) },
			device: func(v *domain.Visit) { v.Report = ptr("device") },
			want:   func(v *domain.Visit) { v.PlannedAt, v.Report = t0.Add(24*60*60e9), ptr("device") },
		},
		{
			name:       "CheckedInAtEarlierWinsDevice",
			server:     func(v *domain.Visit) { v.CheckedInAt = at(10) },
			device:     func(v *domain.Visit) { v.CheckedInAt = at(5) },
			want:       func(v *domain.Visit) { v.CheckedInAt = at(5) },
			serverLost: []string{"checked_in_at"},
		},
		{
			name:       "CheckedInAtEarlierWinsServer",
			server:     func(v *domain.Visit) { v.CheckedInAt = at(5) },
			device:     func(v *domain.Visit) { v.CheckedInAt = at(10) },
			want:       func(v *domain.Visit) { v.CheckedInAt = at(5) },
			deviceLost: []string{"checked_in_at"},
		},
		{
			name:       "CheckedOutAtLaterWinsDevice",
			server:     func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = at(0), at(20) },
			device:     func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = at(0), at(30) },
			want:       func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = at(0), at(30) },
			serverLost: []string{"checked_out_at"},
		},
		{
			name:       "CheckedOutAtLaterWinsServer",
			server:     func(v *domain.Visit) { v.CheckedOutAt = at(30) },
			device:     func(v *domain.Visit) { v.CheckedOutAt = at(20) },
			want:       func(v *domain.Visit) { v.CheckedOutAt = at(30) },
			deviceLost: []string{"checked_out_at"},
		},
		{
			name:       "ReportAndOutcomeDeviceWins",
			server:     func(v *domain.Visit) { v.Report, v.Outcome = ptr("server"), ptr("no_order") },
			device:     func(v *domain.Visit) { v.Report, v.Outcome = ptr("device"), ptr("ordered") },
			want:       func(v *domain.Visit) { v.Report, v.Outcome = ptr("device"), ptr("ordered") },
			serverLost: []string{"outcome", "report"},
		},
		{
			name:       "ReportClearedByDevice",
			server:     func(v *domain.Visit) { v.Report = ptr("server") },
			device:     func(v *domain.Visit) { v.Report = nil },
			want:       func(v *domain.Visit) { v.Report = nil },
			serverLost: []string{"report"},
		},
		{
			name:       "OtherFieldDeviceWins",
			server:     func(v *domain.Visit) { v.CheckInLat, v.CheckInLng = ptr(1.0), ptr(2.0) },
			device:     func(v *domain.Visit) { v.CheckInLat, v.CheckInLng = ptr(3.0), ptr(2.0) },
			want:       func(v *domain.Visit) { v.CheckInLat, v.CheckInLng = ptr(3.0), ptr(2.0) },
			serverLost: []string{"check_in_lat"},
		},
		{
			name:   "SameChangeOnBothSides",
			server: func(v *domain.Visit) { v.Report = ptr("same") },
			device: func(v *domain.Visit) { v.Report = ptr("same") },
			want:   func(v *domain.Visit) { v.Report = ptr("same") },
		},
		{
			// The manager cancelled while the rep, offline, did the visit: the
			// visit that happened wins and brings its own timestamps along.
			name:   "CompletedBeatsCancelled",
			server: func(v *domain.Visit) { v.Status, v.Report = domain.VisitCancelled, ptr("customer closed") },
			device: func(v *domain.Visit) {
				v.Status, v.CheckedInAt, v.CheckedOutAt, v.Report = domain.VisitCompleted, at(0), at(40), ptr("great visit")
			},
			want: func(v *domain.Visit) {
				v.Status, v.CheckedInAt, v.CheckedOutAt, v.Report = domain.VisitCompleted, at(0), at(40), ptr("great visit")
			},
			serverLost:     []string{"report", "status"},
			transitionFrom: domain.VisitPlanned,
		},
		{
			// The server side checked in (another device of the rep); this device
			// completed with its own times: earlier check-in, later check-out.
			name:   "TimestampsFromBothSides",
			server: func(v *domain.Visit) { v.Status, v.CheckedInAt = domain.VisitCheckedIn, at(-5) },
			device: func(v *domain.Visit) {
				v.Status, v.CheckedInAt, v.CheckedOutAt = domain.VisitCompleted, at(0), at(30)
			},
			want: func(v *domain.Visit) {
				v.Status, v.CheckedInAt, v.CheckedOutAt = domain.VisitCompleted, at(-5), at(30)
			},
			serverLost: []string{"status"},
			deviceLost: []string{"checked_in_at"},
		},
	}
	runMerge(t, base, tests, domain.MergeVisit)
	for _, tt := range tests {
		if tt.name == "TimestampsFromBothSides" || tt.name == "CompletedBeatsCancelled" {
			v := base
			tt.want(&v)
			if err := domain.ValidateVisit(v); err != nil {
				t.Errorf("%s: merged visit is invalid: %v", tt.name, err.Fields)
			}
		}
	}
}

// Every pair of statuses for a status both sides changed (from a third status:
// the merge ranks statuses and does not care how each side got there).
func TestMergeVisit_Status(t *testing.T) {
	for _, s := range visitStatuses {
		for _, d := range visitStatuses {
			base := visit()
			for _, other := range visitStatuses {
				if other != s && other != d {
					base.Status = other
					break
				}
			}
			tt := mergeCase[domain.Visit]{
				name:   s + "_vs_" + d,
				server: func(v *domain.Visit) { v.Status = s },
				device: func(v *domain.Visit) { v.Status = d },
			}
			winner := s
			switch {
			case s == d:
			case domain.VisitRank(d) > domain.VisitRank(s):
				winner, tt.serverLost = d, []string{"status"}
			default:
				tt.deviceLost = []string{"status"}
			}
			if s == domain.VisitCancelled && winner != s {
				tt.transitionFrom = domain.VisitPlanned // the visit happened; judge it from before the cancellation
			}
			tt.want = func(v *domain.Visit) { v.Status = winner }
			runMerge(t, base, []mergeCase[domain.Visit]{tt}, domain.MergeVisit)
		}
	}
}

// A timestamp the device cleared does not erase one the server recorded.
func TestMergeVisit_ClearedTimestamps(t *testing.T) {
	base := visit()
	base.Status, base.CheckedInAt, base.CheckedOutAt = domain.VisitCompleted, at(0), at(30)
	runMerge(t, base, []mergeCase[domain.Visit]{{
		name:       "SetBeatsCleared",
		server:     func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = at(-5), at(35) },
		device:     func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = nil, nil },
		want:       func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = at(-5), at(35) },
		deviceLost: []string{"checked_in_at", "checked_out_at"},
	}, {
		name:       "DeviceSetsWhatServerCleared",
		server:     func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = nil, nil },
		device:     func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = at(5), at(25) },
		want:       func(v *domain.Visit) { v.CheckedInAt, v.CheckedOutAt = at(5), at(25) },
		serverLost: []string{"checked_in_at", "checked_out_at"},
	}}, domain.MergeVisit)
}

func TestMergeOrder(t *testing.T) {
	base := order()
	base.Lines = []domain.OrderLine{line()}
	more := func(o *domain.Order) { l := line(); l.Quantity = 9; o.Lines = []domain.OrderLine{l} }
	var tests []mergeCase[domain.Order]
	for _, status := range orderStatuses {
		tt := mergeCase[domain.Order]{
			name:   "DeviceNoteWhileServer_" + status,
			server: func(o *domain.Order) { o.Status = status },
			device: func(o *domain.Order) { o.Note = ptr("please deliver monday") },
			want:   func(o *domain.Order) { o.Status, o.Note = status, ptr("please deliver monday") },
		}
		if domain.OrderPastSubmitted(status) {
			tt.conflict = "order already " + status
		}
		tests = append(tests, tt)
	}
	tests = append(tests,
		mergeCase[domain.Order]{
			name:     "LinesOnBothSides",
			server:   func(o *domain.Order) { o.Lines = nil },
			device:   more,
			conflict: "lines changed on both sides",
		},
		mergeCase[domain.Order]{
			name:   "DeviceLinesServerNote",
			server: func(o *domain.Order) { o.Note = ptr("server") },
			device: more,
			want:   func(o *domain.Order) { o.Note = ptr("server"); more(o) },
		},
		mergeCase[domain.Order]{
			name:       "NoteOnBothSidesDeviceWins",
			server:     func(o *domain.Order) { o.Note = ptr("server") },
			device:     func(o *domain.Order) { o.Note = ptr("device") },
			want:       func(o *domain.Order) { o.Note = ptr("device") },
			serverLost: []string{"note"},
		},
		mergeCase[domain.Order]{
			name:   "DeviceSubmitsServerEditedNote",
			server: func(o *domain.Order) { o.Note = ptr("server") },
			device: func(o *domain.Order) { o.Status = domain.OrderSubmitted },
			want:   func(o *domain.Order) { o.Note, o.Status = ptr("server"), domain.OrderSubmitted },
		},
		mergeCase[domain.Order]{
			name:   "NoDeviceChangeOnConfirmed",
			server: func(o *domain.Order) { o.Status = domain.OrderConfirmed },
			device: func(*domain.Order) {},
			want:   func(o *domain.Order) { o.Status = domain.OrderConfirmed },
		},
	)
	runMerge(t, base, tests, domain.MergeOrder)
}

func TestMergeNote(t *testing.T) {
	base := domain.AccountNote{ID: id1, AccountID: id2, AuthorID: id3, Body: "base"}
	runMerge(t, base, []mergeCase[domain.AccountNote]{
		{
			name:       "BodyVsBody",
			server:     func(n *domain.AccountNote) { n.Body = "server" },
			device:     func(n *domain.AccountNote) { n.Body = "device" },
			want:       func(n *domain.AccountNote) { n.Body = "server" },
			deviceLost: []string{"body"},
			noteCopy:   ptr("device"),
		},
		{
			name:   "BodySameOnBothSides",
			server: func(n *domain.AccountNote) { n.Body = "same" },
			device: func(n *domain.AccountNote) { n.Body = "same" },
			want:   func(n *domain.AccountNote) { n.Body = "same" },
		},
		{
			name:   "OnlyDeviceBody",
			server: func(n *domain.AccountNote) { n.ConflictOf = ptr(id4) },
			device: func(n *domain.AccountNote) { n.Body = "device" },
			want:   func(n *domain.AccountNote) { n.ConflictOf, n.Body = ptr(id4), "device" },
		},
		{
			name:   "OnlyServerBody",
			server: func(n *domain.AccountNote) { n.Body = "server" },
			device: func(*domain.AccountNote) {},
			want:   func(n *domain.AccountNote) { n.Body = "server" },
		},
	}, domain.MergeNote)
}

func TestMergeAccount(t *testing.T) {
	base := domain.Account{ID: id1, Name: "Acme", TerritoryID: id2, Class: "A", Status: "active", Phone: ptr("1")}
	runMerge(t, base, []mergeCase[domain.Account]{
		{
			name:       "PhoneOnBothSidesDeviceWins",
			server:     func(a *domain.Account) { a.Phone = ptr("server") },
			device:     func(a *domain.Account) { a.Phone = ptr("device") },
			want:       func(a *domain.Account) { a.Phone = ptr("device") },
			serverLost: []string{"phone"},
		},
		{
			name:   "DifferentFields",
			server: func(a *domain.Account) { a.Email, a.TerritoryID = ptr("s@acme.example"), id3 },
			device: func(a *domain.Account) { a.Address = ptr("Main St 2") },
			want: func(a *domain.Account) {
				a.Email, a.TerritoryID, a.Address = ptr("s@acme.example"), id3, ptr("Main St 2")
			},
		},
	}, domain.MergeAccount)
}
