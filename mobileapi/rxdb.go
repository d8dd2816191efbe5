package mobileapi

import (
	"bufio"
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/sync/rxdb"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

// registerRxDB adds the RxDB replication endpoints, one set per collection
// (docs/protocol.md §9).
func registerRxDB(r fiber.Router, d Deps) {
	h := rxdbHandlers{deps: d, x: rxdb.New(d.Engine)}
	authenticated := httpapi.Authenticate(d.Auth)
	g := r.Group("/rxdb/:collection", authenticated, h.collection)
	g.Get("/pull", h.pull)
	g.Post("/push", httpapi.BodyLimit(wire.MaxPushBodyBytes), h.push)
	g.Get("/stream", h.stream)
}

type rxdbHandlers struct {
	deps Deps
	x    *rxdb.Adapter
}

const localCollection = "fieldsync.rxdb.collection"

// collection checks the collection name once for every route: an unknown
// collection is 404, like an unknown path.
func (h rxdbHandlers) collection(c *fiber.Ctx) error {
	name := strings.Clone(c.Params("collection"))
	if !rxdb.Collection(name) {
		return domain.Errorf(domain.CodeNotFound, "no such collection")
	}
	c.Locals(localCollection, name)
	return c.Next()
}

func (h rxdbHandlers) pull(c *fiber.Ctx) error {
	size := rxdb.DefaultBatchSize
	if raw := c.Query("batchSize"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return httpapi.BadParam("batchSize", "must be a positive integer")
		}
		size = min(n, rxdb.MaxBatchSize)
	}
	cursor, err := httpapi.Query(c, "cursor")
	if err != nil {
		return err
	}
	res, err := h.x.Pull(c.UserContext(), httpapi.CallerOf(c), c.Locals(localCollection).(string), cursor, size)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h rxdbHandlers) push(c *fiber.Ctx) error {
	var rows []rxdb.PushRow
	if err := httpapi.DecodeJSON(c, &rows); err != nil {
		return err
	}
	if len(rows) > rxdb.MaxPushRows {
		return domain.Errorf(domain.CodeTooLarge, "%d rows in one push; at most %d", len(rows), rxdb.MaxPushRows)
	}
	docs, err := h.x.Push(c.UserContext(), httpapi.CallerOf(c), c.Locals(localCollection).(string), rows)
	if err != nil {
		return err
	}
	return c.JSON(docs)
}

// frameResync is what RxDB's pull.stream$ understands as "pull again from
// your checkpoint".
const frameResync = "data: \"RESYNC\"\n\n"

// stream serves pull.stream$: "RESYNC" on connecting (whatever was missed
// while disconnected) and whenever a committed write touched the caller's
// scope. RxDB then pulls from its own checkpoint, so documents reach it
// through one chain of checkpoints that never skips or repeats a change.
func (h rxdbHandlers) stream(c *fiber.Ctx) error {
	sub, token, err := openStream(c, h.deps)
	if err != nil {
		return err
	}
	sseHeaders(c)
	l := &streamLoop{d: h.deps, cfg: h.deps.Stream.withDefaults(), sub: sub, token: token, conn: c.Context().Conn()}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		l.w = w
		l.run(frameResync, func() (string, bool) { return frameResync, true })
	})
	return nil
}
