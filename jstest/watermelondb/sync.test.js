// WatermelonDB 0.28 (LokiJS adapter, in memory) syncing with a real Fieldsync
// server through /v1/watermelon/sync, with no glue beyond fieldsync.js (URL and
// token). Run by jstest/watermelondb_test.go, which starts the server, seeds
// it (FIELDSYNC_ORG) and answers "@@" control requests on stdin.
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const readline = require('node:readline')
const { Database, Model } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { hasUnsyncedChanges } = require('@nozbe/watermelondb/sync')
const { setGenerator } = require('@nozbe/watermelondb/utils/common/randomId')
const { schema, syncWithFieldsync, login } = require('./fieldsync')

// Fieldsync ids are UUIDs: records created on the device keep theirs forever.
setGenerator(() => crypto.randomUUID())

const url = process.env.FIELDSYNC_URL
const org = JSON.parse(process.env.FIELDSYNC_ORG)
const DAY = 24 * 3600 * 1000

const modelClasses = schema.tables
  ? Object.keys(schema.tables).map((table) => {
      const M = class extends Model {}
      M.table = table
      return M
    })
  : []

// ---- control channel to the Go test
const lines = readline.createInterface({ input: process.stdin })
const replies = []
const waiting = []
lines.on('line', (l) => (waiting.length ? waiting.shift()(l) : replies.push(l)))
function control(cmd) {
  process.stdout.write('@@' + JSON.stringify(cmd) + '\n')
  return new Promise((resolve) => {
    const got = (l) => {
      const r = JSON.parse(l)
      if (r.error) throw new Error(`control ${cmd.cmd}: ${r.error}`)
      resolve(r)
    }
    replies.length ? got(replies.shift()) : waiting.push(got)
  })
}

// ---- devices
let dbCount = 0
async function device(userKey) {
  const adapter = new LokiJSAdapter({ schema, useWebWorker: false, useIncrementalIndexedDB: false,
    dbName: `dev${++dbCount}` })
  const database = new Database({ adapter, modelClasses })
  const deviceId = crypto.randomUUID()
  const token = await login(url, org[userKey + '_email'], org.password, deviceId)
  return { database, token, user: org[userKey], userKey, deviceId }
}

// sync runs one synchronize() once every committed change is deliverable.
async function sync(dev, opts = {}) {
  await control({ cmd: 'settle' })
  const log = {}
  let pulled = null
  await syncWithFieldsync(dev.database, { url, token: dev.token, log, onPulled: (b) => (pulled = b), ...opts })
  return { log, pulled }
}

async function find(dev, table, id) {
  try {
    return await dev.database.get(table).find(id)
  } catch (e) {
    return null
  }
}
const ids = async (dev, table) => (await dev.database.get(table).query().fetch()).map((r) => r.id).sort()
const raw = (rec, col) => rec._raw[col]

async function create(dev, table, fields) {
  let rec
  await dev.database.write(async () => {
    rec = await dev.database.get(table).create((r) => {
      for (const [k, v] of Object.entries(fields)) r._setRaw(k, v)
    })
  })
  return rec
}
async function edit(dev, rec, fields) {
  await dev.database.write(async () => {
    await rec.update((r) => {
      for (const [k, v] of Object.entries(fields)) r._setRaw(k, v)
    })
  })
}
async function remove(dev, rec) {
  await dev.database.write(async () => rec.markAsDeleted())
}

async function admin(token, path, body) {
  const res = await fetch(`${url}${path}`, { method: 'PATCH',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`PATCH ${path}: ${res.status} ${await res.text()}`)
  return res.json()
}

// ---- scenarios
async function main() {
  const sorted = (...xs) => [...xs].sort()

  // Initial sync of a rep's scope: the accounts of T1 and the one they own.
  const A = await device('rep1')
  await sync(A)
  assert.deepEqual(await ids(A, 'accounts'), sorted(org.a1, org.a1b, org.key), 'initial sync: rep1 accounts')
  assert.deepEqual(await ids(A, 'products'), [org.p1])
  const a1 = await find(A, 'accounts', org.a1)
  assert.equal(typeof raw(a1, 'updated_at'), 'number')
  assert.ok(raw(a1, 'updated_at') > 1.7e12, 'updated_at is in milliseconds')
  assert.equal(raw(a1, 'version'), 1)
  console.log('ok initial sync')

  // Turbo Login: the first answer as raw JSON. Its shape is what WatermelonDB's
  // native Turbo parser requires (checked here, as Database-turboSync.cpp
  // reads it); LokiJS has no Turbo, so synchronize() gets as far as handing
  // the text to the adapter.
  {
    const dev = await device('rep1')
    const res = await fetch(`${url}/v1/watermelon/sync?last_pulled_at=null&schema_version=1&migration=null`,
      { headers: { Authorization: `Bearer ${dev.token}` } })
    const text = await res.text()
    const body = JSON.parse(text)
    assert.ok(typeof body.timestamp === 'number' && body.timestamp > 0, 'turbo: timestamp')
    for (const [table, set] of Object.entries(body.changes)) {
      assert.deepEqual(Object.keys(set).sort(), ['created', 'deleted', 'updated'], `turbo: ${table} keys`)
      assert.equal(set.deleted.length, 0, `turbo: ${table} has no deletes`)
      for (const rec of [...set.created, ...set.updated]) {
        assert.equal(typeof rec.id, 'string')
        assert.ok(!('_status' in rec) && !('_changed' in rec))
      }
    }
    assert.equal(body.changes.accounts.updated.length, 3)
    await assert.rejects(syncWithFieldsync(dev.database, { url, token: dev.token, turbo: true }),
      /provideSyncJson unavailable in LokiJS/)
    console.log('ok turbo first sync')
  }

  // Offline create, edit and delete reach the server (seen by a new device).
  const v1 = await create(A, 'visits', { account_id: org.a1, rep_id: A.user, status: 'planned',
    planned_at: Date.now() + DAY })
  const n1 = await create(A, 'account_notes', { account_id: org.a1, author_id: A.user, body: 'Owner prefers mornings' })
  const n2 = await create(A, 'account_notes', { account_id: org.a1, author_id: A.user, body: 'to be deleted' })
  await edit(A, a1, { phone: '+49 111' })
  await sync(A)
  assert.equal(await hasUnsyncedChanges({ database: A.database }), false)
  await remove(A, n2)
  await sync(A)
  const B = await device('rep1')
  await sync(B)
  const v1b = await find(B, 'visits', v1.id)
  assert.ok(v1b, 'visit created offline reached the server')
  assert.equal(raw(v1b, 'status'), 'planned')
  assert.equal(raw(v1b, 'planned_at'), raw(v1, 'planned_at'))
  assert.ok(await find(B, 'account_notes', n1.id))
  assert.equal(await find(B, 'account_notes', n2.id), null, 'deleted note is gone')
  assert.equal(raw(await find(B, 'accounts', org.a1), 'phone'), '+49 111')
  console.log('ok offline create, edit, delete')

  // Another device's edit arrives on the next synchronize().
  await edit(B, v1b, { report: 'Met the owner' })
  await sync(B)
  await sync(A)
  assert.equal(raw(await find(A, 'visits', v1.id), 'report'), 'Met the owner')
  console.log("ok another device's edit")

  // Concurrent edits converge as the policies say: the further visit state
  // wins (checked_in beats cancelled); both changed a contact field: the
  // device's value wins, so the later push.
  const now = Date.now()
  await edit(A, await find(A, 'visits', v1.id), { status: 'checked_in', checked_in_at: now })
  await edit(B, await find(B, 'visits', v1.id), { status: 'cancelled' })
  await edit(A, await find(A, 'accounts', org.a1), { phone: '+49 222' })
  await edit(B, await find(B, 'accounts', org.a1), { phone: '+49 333' })
  await sync(A)
  await sync(B) // merged on the server: B's copy is corrected by its next pull
  await sync(A)
  await sync(B)
  for (const dev of [A, B]) {
    const v = await find(dev, 'visits', v1.id)
    assert.equal(raw(v, 'status'), 'checked_in', `further state wins (device ${dev === A ? 'A' : 'B'})`)
    assert.equal(raw(v, 'checked_in_at'), now)
    assert.equal(raw(await find(dev, 'accounts', org.a1), 'phone'), '+49 333')
    assert.equal(await hasUnsyncedChanges({ database: dev.database }), false)
  }
  console.log('ok concurrent edits converge')

  // An account moved out of the rep's territory disappears, with its visits.
  const ops = await login(url, org.ops_email, org.password, crypto.randomUUID())
  const vOut = await create(A, 'visits', { account_id: org.a1b, rep_id: A.user, status: 'planned',
    planned_at: Date.now() + 2 * DAY })
  await sync(A)
  await admin(ops, `/v1/admin/accounts/${org.a1b}`, { territory_id: org.t2 })
  await sync(A)
  assert.equal(await find(A, 'accounts', org.a1b), null, 'moved account is gone')
  assert.equal(await find(A, 'visits', vOut.id), null, "its visit is gone")
  console.log('ok account moved out')

  // A rejected create is reported, then dropped: not pushed again forever.
  const bad = await create(A, 'visits', { account_id: org.a2, rep_id: A.user, status: 'planned',
    planned_at: Date.now() + DAY })
  const first = await sync(A)
  assert.deepEqual(first.log.rejectedIds, { visits: [bad.id] }, 'rejected create reported')
  assert.ok(await find(A, 'visits', bad.id), 'kept until the next pull')
  const second = await sync(A)
  assert.equal(await find(A, 'visits', bad.id), null, 'dropped by the next pull')
  assert.ok(!second.log.rejectedIds, 'not pushed again')
  assert.equal(await hasUnsyncedChanges({ database: A.database }), false)
  console.log('ok rejected create')

  // A reset (a scope change to an organisation-wide role) is a replacement sync.
  const C = await device('rep3')
  await sync(C)
  assert.equal(await find(C, 'accounts', org.a2), null)
  await admin(ops, `/v1/admin/users/${org.rep3}`, { role: 'coordinator', territory_ids: [] })
  // A role change ends the user's sessions: the same device signs in again.
  C.token = await login(url, org.rep3_email, org.password, C.deviceId)
  const reset = await sync(C)
  assert.equal(reset.pulled.experimentalStrategy, 'replacement')
  assert.ok(await find(C, 'accounts', org.a2), 'organisation-wide scope after the reset')
  assert.equal(await find(C, 'visits', v1.id), null, 'tables outside the new scope replaced by nothing')
  console.log('ok reset as replacement sync')
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && e.stack ? e.stack : e)
    process.exit(1)
  },
)
