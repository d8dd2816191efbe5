package device_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// fakeServer speaks the device-facing contract (docs/protocol.md §3–4) minimally, in
// memory: the HTTP edge is the only thing these tests replace. Its cursor is the
// sequence number of its change log; an unknown or malformed cursor resets.
// It does not merge by policy: an upsert overlays the patch (status "merged"
// when base_version is behind), unless decide says otherwise.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	users   map[string]fakeUser // by email
	tokens  map[string]string   // token -> user id
	rows    map[string]map[string]map[string]any
	log     []fakeEntry
	results map[string]wire.MutationResult // idempotency, by mutation id
	pushes  []fakePush
	pulls   []string // cursors received
	// scripted pull pages, served (in order) before the log
	pages []wire.PullResponse
	// decide overrides the outcome of a mutation; nil result: default handling
	decide func(m wire.Mutation) *wire.MutationResult
	// losePushes answers the next n pushes with 503 after applying them: a
	// lost response
	losePushes int
}

type fakeUser struct {
	id, password string
	role         domain.Role
}

type fakeEntry struct {
	seq    int
	change wire.Change
}

type fakePush struct {
	gzipped    bool // the body came gzipped (raw is decoded)
	acceptGzip bool
	raw        []byte
	req        wire.PushRequest
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{t: t, users: map[string]fakeUser{}, tokens: map[string]string{},
		rows: map[string]map[string]map[string]any{}, results: map[string]wire.MutationResult{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/login", f.login)
	mux.HandleFunc("POST /v1/auth/logout", f.auth(f.logout))
	mux.HandleFunc("GET /v1/me", f.auth(f.me))
	mux.HandleFunc("GET /v1/sync/pull", f.auth(f.pull))
	mux.HandleFunc("POST /v1/sync/push", f.auth(f.push))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) addUser(email, password string, role domain.Role) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := uuid.NewString()
	f.users[email] = fakeUser{id: id, password: password, role: role}
	return id
}

// put writes a row as the back office would: version bumped, change logged.
func (f *fakeServer) put(table string, row map[string]any) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.write(table, row["id"].(string), row)
}

func (f *fakeServer) write(table, id string, row map[string]any) int64 {
	if f.rows[table] == nil {
		f.rows[table] = map[string]map[string]any{}
	}
	var v int64 = 1
	if old, ok := f.rows[table][id]; ok {
		v = old["version"].(int64) + 1
	}
	row = maps.Clone(row)
	row["id"], row["version"], row["updated_at"] = id, v, time.Now().UTC().Format(time.RFC3339Nano)
	f.rows[table][id] = row
	b, _ := json.Marshal(row)
	f.appendLog(wire.Change{Table: table, Op: "upsert", ID: id, Version: v, Row: b})
	return v
}

func (f *fakeServer) del(table, id, reason string) int64 {
	v := f.rows[table][id]["version"].(int64) + 1
	delete(f.rows[table], id)
	f.appendLog(wire.Change{Table: table, Op: "delete", ID: id, Version: v, Reason: reason})
	return v
}

func (f *fakeServer) appendLog(ch wire.Change) {
	f.log = append(f.log, fakeEntry{seq: len(f.log) + 1, change: ch})
}

func (f *fakeServer) row(table, id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.rows[table][id])
}

func (f *fakeServer) pushLog() []fakePush {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakePush(nil), f.pushes...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code domain.Code, msg string) {
	writeJSON(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: string(code), Message: msg}})
}

type authed func(w http.ResponseWriter, r *http.Request, userID string)

func (f *fakeServer) auth(next authed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		userID, known := f.tokens[token]
		f.mu.Unlock()
		if !ok || !known {
			writeError(w, http.StatusUnauthorized, domain.CodeUnauthorized, "missing or invalid token")
			return
		}
		next(w, r, userID)
	}
}

func (f *fakeServer) login(w http.ResponseWriter, r *http.Request) {
	var req wire.LoginRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.DeviceID == "" {
		writeError(w, http.StatusBadRequest, domain.CodeBadRequest, "bad login request")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[req.Email]
	if !ok || u.password != req.Password {
		writeError(w, http.StatusUnauthorized, domain.CodeUnauthorized, "invalid email or password")
		return
	}
	token := uuid.NewString()
	f.tokens[token] = u.id
	writeJSON(w, http.StatusOK, wire.LoginResponse{Token: token, ExpiresAt: time.Now().Add(time.Hour),
		User: wire.UserInfo{ID: u.id, Email: req.Email, Name: req.Email, Role: u.role}})
}

func (f *fakeServer) logout(w http.ResponseWriter, r *http.Request, _ string) {
	f.mu.Lock()
	delete(f.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeServer) me(w http.ResponseWriter, _ *http.Request, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for email, u := range f.users {
		if u.id == userID {
			writeJSON(w, http.StatusOK, wire.MeResponse{User: wire.UserInfo{ID: u.id, Email: email, Name: email, Role: u.role}})
			return
		}
	}
	writeError(w, http.StatusUnauthorized, domain.CodeUnauthorized, "unknown user")
}

func (f *fakeServer) pull(w http.ResponseWriter, r *http.Request, _ string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cursor := r.URL.Query().Get("cursor")
	f.pulls = append(f.pulls, cursor)
	if len(f.pages) > 0 {
		page := f.pages[0]
		f.pages = f.pages[1:]
		writeJSON(w, http.StatusOK, page)
		return
	}
	limit := wire.DefaultPullLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		limit, _ = strconv.Atoi(s)
	}
	from, err := strconv.Atoi(cursor)
	reset := cursor != "" && (err != nil || from > len(f.log))
	if reset || cursor == "" {
		from = 0
	}
	end := min(from+limit, len(f.log))
	resp := wire.PullResponse{Changes: []wire.Change{}, Cursor: strconv.Itoa(end), HasMore: end < len(f.log), Reset: reset}
	for _, e := range f.log[from:end] {
		resp.Changes = append(resp.Changes, e.change)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (f *fakeServer) push(w http.ResponseWriter, r *http.Request, userID string) {
	var body io.Reader = r.Body
	gzipped := r.Header.Get("Content-Encoding") == "gzip"
	if gzipped {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, domain.CodeBadRequest, "malformed gzip body")
			return
		}
		body = zr
	}
	raw, _ := io.ReadAll(body)
	var req wire.PushRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		writeError(w, http.StatusBadRequest, domain.CodeBadRequest, "malformed JSON")
		return
	}
	if len(req.Mutations) > wire.MaxMutations {
		writeError(w, http.StatusRequestEntityTooLarge, domain.CodeTooLarge, "too many mutations")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushes = append(f.pushes, fakePush{raw: raw, req: req, gzipped: gzipped, acceptGzip: r.Header.Get("Accept-Encoding") == "gzip"})
	resp := wire.PushResponse{Results: []wire.MutationResult{}}
	for _, m := range req.Mutations {
		res, seen := f.results[m.MutationID]
		if !seen {
			res = f.apply(m, userID)
			f.results[m.MutationID] = res
		}
		resp.Results = append(resp.Results, res)
	}
	if f.losePushes > 0 {
		f.losePushes--
		writeError(w, http.StatusServiceUnavailable, domain.CodeUnavailable, "response lost")
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (f *fakeServer) apply(m wire.Mutation, userID string) wire.MutationResult {
	if f.decide != nil {
		if res := f.decide(m); res != nil {
			res.MutationID = m.MutationID
			return *res
		}
	}
	res := wire.MutationResult{MutationID: m.MutationID}
	if !domain.IsSyncedTable(m.Table) {
		res.Status, res.Error = wire.StatusRejected, &wire.ErrorDetail{Code: string(domain.CodeUnknownTable), Message: "unknown table"}
		return res
	}
	cur, exists := f.rows[m.Table][m.ID]
	switch m.Op {
	case "delete":
		if !exists {
			res.Status, res.Error = wire.StatusRejected, &wire.ErrorDetail{Code: string(domain.CodeNotFound), Message: "no such row"}
			return res
		}
		res.Status, res.Version = wire.StatusApplied, f.del(m.Table, m.ID, "deleted")
		return res
	case "upsert":
		var patch map[string]any
		if err := json.Unmarshal(m.Row, &patch); err != nil {
			res.Status, res.Error = wire.StatusRejected, &wire.ErrorDetail{Code: string(domain.CodeValidation), Message: "row is not an object"}
			return res
		}
		row := maps.Clone(cur)
		if !exists {
			row = map[string]any{"rep_id": userID, "author_id": userID}
		}
		maps.Copy(row, patch)
		res.Status = wire.StatusApplied
		if exists && m.BaseVersion < cur["version"].(int64) {
			res.Status = wire.StatusMerged
		}
		res.Version = f.write(m.Table, m.ID, row)
		res.Row, _ = json.Marshal(f.rows[m.Table][m.ID])
		return res
	}
	res.Status, res.Error = wire.StatusRejected, &wire.ErrorDetail{Code: string(domain.CodeUnknownOp), Message: fmt.Sprintf("unknown op %q", m.Op)}
	return res
}
