// The whole integration a WatermelonDB app needs with Fieldsync: a schema
// with Fieldsync's columns, and synchronize() pointed at one URL with a token.
// docs/clients.md quotes this file; sync.test.js runs it against a real server.
const { appSchema, tableSchema } = require('@nozbe/watermelondb')
const { synchronize } = require('@nozbe/watermelondb/sync')

// Fieldsync's synced tables. Times are numbers (ms since 1970, what @date
// reads), arrays (orders.lines, users.territory_ids) JSON strings (@json).
// `version` is optional: the server works out what the app had from
// lastPulledAt, and reads `version` only as a fallback.
const schema = appSchema({
  version: 1,
  tables: [
    tableSchema({ name: 'territories', columns: [
      { name: 'name', type: 'string' },
      { name: 'parent_id', type: 'string', isOptional: true },
      { name: 'version', type: 'number' },
      { name: 'updated_at', type: 'number' },
    ] }),
    tableSchema({ name: 'users', columns: [
      { name: 'name', type: 'string' },
      { name: 'role', type: 'string' },
      { name: 'territory_ids', type: 'string' },
      { name: 'version', type: 'number' },
      { name: 'updated_at', type: 'number' },
    ] }),
    tableSchema({ name: 'products', columns: [
      { name: 'sku', type: 'string' },
      { name: 'name', type: 'string' },
      { name: 'unit_price_cents', type: 'number' },
      { name: 'currency', type: 'string' },
      { name: 'active', type: 'boolean' },
      { name: 'version', type: 'number' },
      { name: 'updated_at', type: 'number' },
    ] }),
    tableSchema({ name: 'accounts', columns: [
      { name: 'name', type: 'string' },
      { name: 'territory_id', type: 'string', isIndexed: true },
      { name: 'owner_id', type: 'string', isOptional: true },
      { name: 'class', type: 'string' },
      { name: 'status', type: 'string' },
      { name: 'address', type: 'string', isOptional: true },
      { name: 'phone', type: 'string', isOptional: true },
      { name: 'email', type: 'string', isOptional: true },
      { name: 'lat', type: 'number', isOptional: true },
      { name: 'lng', type: 'number', isOptional: true },
      { name: 'version', type: 'number' },
      { name: 'updated_at', type: 'number' },
    ] }),
    tableSchema({ name: 'visits', columns: [
      { name: 'account_id', type: 'string', isIndexed: true },
      { name: 'rep_id', type: 'string' },
      { name: 'status', type: 'string' },
      { name: 'planned_at', type: 'number' },
      { name: 'checked_in_at', type: 'number', isOptional: true },
      { name: 'checked_out_at', type: 'number', isOptional: true },
      { name: 'check_in_lat', type: 'number', isOptional: true },
      { name: 'check_in_lng', type: 'number', isOptional: true },
      { name: 'check_in_distance_m', type: 'number', isOptional: true },
      { name: 'outcome', type: 'string', isOptional: true },
      { name: 'report', type: 'string', isOptional: true },
      { name: 'version', type: 'number' },
      { name: 'updated_at', type: 'number' },
    ] }),
    tableSchema({ name: 'orders', columns: [
      { name: 'number', type: 'string', isOptional: true },
      { name: 'account_id', type: 'string', isIndexed: true },
      { name: 'rep_id', type: 'string' },
      { name: 'visit_id', type: 'string', isOptional: true },
      { name: 'status', type: 'string' },
      { name: 'lines', type: 'string' },
      { name: 'total_cents', type: 'number' },
      { name: 'currency', type: 'string' },
      { name: 'note', type: 'string', isOptional: true },
      { name: 'reason', type: 'string', isOptional: true },
      { name: 'submitted_at', type: 'number', isOptional: true },
      { name: 'version', type: 'number' },
      { name: 'updated_at', type: 'number' },
    ] }),
    tableSchema({ name: 'account_notes', columns: [
      { name: 'account_id', type: 'string', isIndexed: true },
      { name: 'author_id', type: 'string' },
      { name: 'body', type: 'string' },
      { name: 'conflict_of', type: 'string', isOptional: true },
      { name: 'version', type: 'number' },
      { name: 'updated_at', type: 'number' },
    ] }),
  ],
})

// syncWithFieldsync runs one WatermelonDB synchronize() against Fieldsync.
// turbo: the first sync of an empty database through Turbo Login (the raw
// JSON text goes to WatermelonDB's native SQLite adapter unparsed).
async function syncWithFieldsync(database, { url, token, turbo = false, log, onPulled } = {}) {
  const endpoint = `${url}/v1/watermelon/sync`
  const headers = { Authorization: `Bearer ${token}` }
  await synchronize({
    database,
    log,
    // Fieldsync cannot tell a row new to this app from one it holds: every
    // record comes as `updated`, which WatermelonDB creates when missing.
    sendCreatedAsUpdated: true,
    unsafeTurbo: turbo,
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      const query = new URLSearchParams({
        last_pulled_at: String(lastPulledAt ?? 'null'),
        schema_version: String(schemaVersion),
        migration: JSON.stringify(migration ?? null),
      })
      const res = await fetch(`${endpoint}?${query}`, { headers })
      if (!res.ok) throw new Error(`pull: ${res.status} ${await res.text()}`)
      if (turbo) return { syncJson: await res.text() }
      const body = await res.json()
      onPulled && onPulled(body)
      return body // {changes, timestamp, experimentalStrategy?}
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      const res = await fetch(`${endpoint}?last_pulled_at=${lastPulledAt}`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ changes, lastPulledAt }),
      })
      if (!res.ok) throw new Error(`push: ${res.status} ${await res.text()}`)
      return res.json() // {experimentalRejectedIds}
    },
  })
}

// login signs a device in and returns its token.
async function login(url, email, password, deviceId) {
  const res = await fetch(`${url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, device_id: deviceId }),
  })
  if (!res.ok) throw new Error(`login ${email}: ${res.status} ${await res.text()}`)
  return (await res.json()).token
}

module.exports = { schema, syncWithFieldsync, login }
