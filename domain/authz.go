package domain

import (
	"fmt"
	"slices"
)

// Who may do what (docs/protocol.md §2), written once. Every path asks here: the
// routes (Authorize, through the HTTP layer's RequireAction), push and visit
// planning (CheckWrite), the order desk (CheckWrite), conflict resolution
// (CheckResolution) and the attachments' upload lane (CheckUpload,
// CheckUploadOwner). Scope, the rows a user reaches, is the visibility rule's
// (Visible, in visibility.go), asked by the callers before these rules run: a
// row outside the caller's scope is answered as a row that does not exist,
// never as forbidden.

// Action is a route-level right of the role table.
type Action string

const (
	ActPull             Action = "sync.pull"
	ActPush             Action = "sync.push" // what a push may change: CheckWrite
	ActListConflicts    Action = "conflicts.list"
	ActResolveConflict  Action = "conflicts.resolve"
	ActListOrders       Action = "orders.list"
	ActTransitionOrder  Action = "orders.transition"
	ActPlanVisit        Action = "visits.plan"
	ActReportCoverage   Action = "reports.coverage"
	ActReportOverdue    Action = "reports.overdue"
	ActReportOrders     Action = "reports.orders"
	ActReportSyncHealth Action = "reports.sync_health"
	ActAdmin            Action = "admin"
	ActSetTarget        Action = "targets.set"
	ActReadTargets      Action = "targets.read"
	ActReportKPIs       Action = "reports.kpis"
	// ActImportOrderStatus is the ERP's status import: held by integrations'
	// API keys (integrationGrants), by no user role.
	ActImportOrderStatus Action = "orders.import_status"
	// ActUploadAttachment: the upload lane (docs/protocol.md §11), which
	// carries the bytes of attachment rows their uploader pushed (CheckUpload).
	ActUploadAttachment Action = "attachments.upload"
	// ActReadAttachment: the downloads, of the attachments whose parent the
	// caller's scope holds.
	ActReadAttachment Action = "attachments.read"
)

var allRoles = []Role{RoleRep, RoleCoordinator, RoleManager, RoleDirector, RoleOps}

// grants is the role table. Conflict resolution is the managers' (any table of
// their subtree) and the coordinators' (orders of their territories): the
// contract gives ops the admin endpoints, not other people's conflicts.
var grants = map[Action][]Role{
	ActPull:             allRoles,
	ActPush:             allRoles, // a push is answered per mutation
	ActListConflicts:    allRoles, // each sees their own or their scope's
	ActResolveConflict:  {RoleCoordinator, RoleManager},
	ActListOrders:       {RoleCoordinator, RoleManager, RoleDirector, RoleOps},
	ActTransitionOrder:  {RoleCoordinator},
	ActPlanVisit:        {RoleManager},
	ActReportCoverage:   {RoleManager, RoleDirector},
	ActReportOverdue:    {RoleManager, RoleDirector},
	ActReportOrders:     {RoleCoordinator, RoleManager, RoleDirector},
	ActReportSyncHealth: {RoleManager, RoleDirector},
	ActAdmin:            {RoleOps},
	// Targets: the head of sales (director) and sales operations set them;
	// managers read those of their subtree; reps read their own through sync.
	ActSetTarget:   {RoleDirector, RoleOps},
	ActReadTargets: {RoleManager, RoleDirector, RoleOps},
	ActReportKPIs:  {RoleManager, RoleDirector},
	// Integrations' API keys are issued by ops (ActAdmin); what a key may do
	// is integrationGrants', not a role's.
	ActImportOrderStatus: {},
	// Only reps push attachment rows (pushRights), so only reps have bytes to
	// upload. Downloads are for the roles whose scope holds the attachments
	// table: every role but the coordinators, whose scope has no visits or
	// notes (coordinatorTables; TestAuthorize_AttachmentsFollowScope holds
	// the two together).
	ActUploadAttachment: {RoleRep},
	ActReadAttachment:   {RoleRep, RoleManager, RoleDirector, RoleOps},
}

// integrationGrants: what an integration's API key may do. A key is not a
// user: it reaches no route of the role table, and no user reaches these.
var integrationGrants = []Action{ActImportOrderStatus}

// AuthorizeIntegration refuses an action no API key is granted.
func AuthorizeIntegration(a Action) *Error {
	if slices.Contains(integrationGrants, a) {
		return nil
	}
	return Errorf(CodeForbidden, "not allowed for an API key")
}

// erpEdges are the order transitions the ERP reports: the goods leave, then
// arrive. Everything before (submission, confirmation) is the desk's.
var erpEdges = map[orderEdge]bool{
	{OrderConfirmed, OrderShipped}: true,
	{OrderShipped, OrderDelivered}: true,
}

// CheckERPOrderMove decides whether the ERP may move an order from one status
// to another: confirmed → shipped → delivered, one arrow at a time, and
// nothing else (an order already at to is not moved again).
func CheckERPOrderMove(from, to string) *Error {
	if erpEdges[orderEdge{from, to}] {
		return nil
	}
	if from == to {
		return Errorf(CodeIllegalTransition, "order is already %s", to)
	}
	return Errorf(CodeIllegalTransition, "order cannot go from %s to %s", from, to)
}

// ActionRoles returns the roles granted a, in the order of the role table.
func ActionRoles(a Action) []Role { return slices.Clone(grants[a]) }

// Authorize refuses a role the action is not granted to.
func Authorize(role Role, a Action) *Error {
	if slices.Contains(grants[a], role) {
		return nil
	}
	return Errorf(CodeForbidden, "not allowed for role %s", role)
}

// WriteKind is what a write does to its row.
type WriteKind int

const (
	WriteCreate WriteKind = iota
	WriteUpdate
	WriteDelete
)

func (k WriteKind) String() string {
	return [...]string{"create", "change", "delete"}[k]
}

// RowWrite describes one write to a synced row by what the rules look at.
// Owner is the rep of a visit or order and the author of a note (PrevOwner
// before the write); Status likewise for visits and orders. Changed lists the
// fields the write sets (for a create, those it carries).
type RowWrite struct {
	Table              string
	Kind               WriteKind
	PrevOwner, Owner   string
	PrevStatus, Status string
	Changed            []string
}

// pushRights: which kinds of write each role may push per table, before the
// row is even looked up. Reps record their work; managers plan visits;
// coordinators, directors and ops work through the back office.
var pushRights = map[Role]map[string][]WriteKind{
	RoleRep: {
		TableVisits:       {WriteCreate, WriteUpdate, WriteDelete},
		TableOrders:       {WriteCreate, WriteUpdate, WriteDelete},
		TableAccountNotes: {WriteCreate, WriteUpdate, WriteDelete},
		TableAccounts:     {WriteUpdate},
		TableAttachments:  {WriteCreate, WriteUpdate, WriteDelete},
	},
	RoleManager: {TableVisits: {WriteCreate}},
}

// MayPush is the part of the rules a push can be judged by before its row is
// read: an edit or delete a role may never push is forbidden whether or not
// the row exists, so the answer leaks nothing.
func MayPush(role Role, table string, kind WriteKind) *Error {
	if slices.Contains(pushRights[role][table], kind) {
		return nil
	}
	return Errorf(CodeForbidden, "a %s may not %s %s from a device", role, kind, table)
}

// ContactFields are the account fields a rep may change (docs/protocol.md §4.3).
var ContactFields = []string{"phone", "email", "address"}

// planFields are what a manager sets when planning a visit.
var planFields = []string{"account_id", "rep_id", "planned_at", "status"}

// deskFields are what the order desk changes.
var deskFields = []string{"status", "reason"}

// CheckWrite decides whether a may make w to a row in a's scope: the role's
// push rights, ownership, and the role's part of the state machines.
// Validation and the legality of a transition are the row's rules, checked
// by the writer's path for every role alike.
func CheckWrite(a Caller, w RowWrite) *Error {
	switch a.Role {
	case RoleRep:
		return checkRepWrite(a, w)
	case RoleManager:
		// Planning: a planned visit for a rep, nothing else. The rep is checked
		// against the manager's territories by CheckPlannedRep.
		if w.Table != TableVisits || w.Kind != WriteCreate {
			return MayPush(a.Role, w.Table, w.Kind)
		}
		if w.Status != VisitPlanned || !subset(w.Changed, planFields) {
			return Errorf(CodeForbidden, "a manager plans visits: account_id, rep_id and planned_at of a planned visit only")
		}
		return nil
	case RoleCoordinator:
		if w.Table != TableOrders || w.Kind != WriteUpdate || !subset(w.Changed, deskFields) {
			return Errorf(CodeForbidden, "a coordinator moves orders through their states only")
		}
		return checkOrderMove(a.Role, w)
	}
	return Errorf(CodeForbidden, "a %s may not %s %s", a.Role, w.Kind, w.Table)
}

func checkRepWrite(a Caller, w RowWrite) *Error {
	if err := MayPush(a.Role, w.Table, w.Kind); err != nil {
		return err
	}
	switch w.Table {
	case TableVisits, TableOrders, TableAccountNotes, TableAttachments:
		if (w.Kind != WriteCreate && w.PrevOwner != a.UserID) || (w.Kind != WriteDelete && w.Owner != a.UserID) {
			return Errorf(CodeForbidden, "a rep may change only their own %s", ownedNoun[w.Table])
		}
	case TableAccounts:
		if !subset(w.Changed, ContactFields) {
			return Errorf(CodeForbidden, "a rep may change only the contact fields of an account")
		}
	}
	if w.Table == TableOrders {
		return checkOrderMove(a.Role, w)
	}
	return nil
}

var ownedNoun = map[string]string{TableVisits: "visits", TableOrders: "orders", TableAccountNotes: "notes", TableAttachments: "attachments"}

// checkOrderMove is the role's part of the order state machine; a create
// starts from draft.
func checkOrderMove(role Role, w RowWrite) *Error {
	from := w.PrevStatus
	if w.Kind == WriteCreate {
		from = OrderDraft
	}
	if w.Kind == WriteDelete {
		return nil
	}
	return CheckOrderTransition(role, from, w.Status)
}

// CheckResolution decides whether resolver may settle a conflict by making w,
// the write of the conflict's original writer (take_device) or the resolver's
// own version of it (custom). A resolution carries out the writer's change
// with the resolver's approval, so it must pass both sides' rules: the
// writer's (ownership, the fields their role may change, their part of the
// state machine: a resolution never makes a write its writer could not have
// pushed) and the resolver's (the tables their role resolves and their part
// of the state machine: a manager's resolution moves no order through the
// coordinator's transitions). Both rows' scopes are checked by the caller.
func CheckResolution(resolver, writer Caller, w RowWrite) *Error {
	if err := MayResolve(resolver.Role, w.Table); err != nil {
		return err
	}
	if err := CheckWrite(writer, w); err != nil {
		return Errorf(CodeForbidden, "the resolution is a write its writer may not make: %s", err.Message)
	}
	if w.Table == TableOrders {
		if err := checkOrderMove(resolver.Role, w); err != nil {
			return err
		}
	}
	return nil
}

// MayResolve decides whether role resolves conflicts on table at all, whatever
// the resolution (keep_server included).
func MayResolve(role Role, table string) *Error {
	if err := Authorize(role, ActResolveConflict); err != nil {
		return err
	}
	if role == RoleCoordinator && table != TableOrders {
		return Errorf(CodeForbidden, "coordinators resolve conflicts on orders only")
	}
	return nil
}

// CheckUpload decides whether c may start an upload of attachment a's bytes:
// only its uploader, the rep who pushed the row, whose device holds the file.
// Anyone else's attachment is answered exactly as an unknown one
// (UploadTargetNotFound), whether or not the caller sees its parent: there is
// nothing the caller could upload to it.
func CheckUpload(c Caller, a Attachment) *Error {
	if err := Authorize(c.Role, ActUploadAttachment); err != nil {
		return err
	}
	if a.UploaderID != c.UserID {
		return UploadTargetNotFound()
	}
	return nil
}

// UploadTargetNotFound answers an upload creation naming no attachment the
// caller may upload to.
func UploadTargetNotFound() *Error {
	return Errorf(CodeNotFound, "attachment not found: push its row first")
}

// CheckUploadOwner decides whether c may go on with (append to, ask the
// offset of, terminate) an upload in progress: only the user who created it
// (creator; found is false for an unknown upload), and anyone else's upload
// is answered as an unknown one.
func CheckUploadOwner(c Caller, creator string, found bool) *Error {
	if err := Authorize(c.Role, ActUploadAttachment); err != nil {
		return err
	}
	if !found || creator != c.UserID {
		return Errorf(CodeNotFound, "upload not found")
	}
	return nil
}

// PlannedRep is what CheckPlannedRep needs to know of the rep a visit is
// planned for; Found is false when the id names no user.
type PlannedRep struct {
	Found bool
	User  User
	// InPlannerScope: the rep works in one of the planner's territories.
	InPlannerScope bool
}

// CheckPlannedRep: a manager plans a visit only for a rep of their
// territories who covers the account (assigned its territory, or owning it),
// or the visit would reach no one's device. Every refusal has one message, so
// it says nothing about users outside the manager's scope.
func CheckPlannedRep(rep PlannedRep, acc Account) *Error {
	if !rep.Found || rep.User.Role != RoleRep || !rep.InPlannerScope {
		return Invalid(FieldError{Field: "rep_id", Message: "must be a rep in your territories"})
	}
	owns := acc.OwnerID != nil && *acc.OwnerID == rep.User.ID
	if !owns && !slices.Contains(rep.User.TerritoryIDs, acc.TerritoryID) {
		return Invalid(FieldError{Field: "rep_id", Message: "does not cover this account"})
	}
	return nil
}

func subset(fields, allowed []string) bool {
	for _, f := range fields {
		if !slices.Contains(allowed, f) {
			return false
		}
	}
	return true
}

// RowNotFound is the answer for a row that does not exist and for a row
// outside the caller's scope alike, so that no answer tells the two apart.
func RowNotFound(table string) *Error {
	return Errorf(CodeNotFound, "%s not found", rowNoun(table))
}

func rowNoun(table string) string {
	switch table {
	case TableVisits:
		return "visit"
	case TableOrders:
		return "order"
	case TableAccountNotes:
		return "account note"
	case TableAccounts:
		return "account"
	case TableAttachments:
		return "attachment"
	}
	return fmt.Sprintf("%s row", table)
}
