// RxDB 17 (memory storage) against a real Fieldsync server, started by
// rxdb_test.go, which passes the server's address, tokens and seeded ids in
// FIELDSYNC_JSTEST. Steps run in order and build on each other.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRxDatabase } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { replicateFieldsync } from './fieldsync.mjs';
import { accountSchema, noteSchema } from './schema.mjs';

const cfg = JSON.parse(process.env.FIELDSYNC_JSTEST);
const ACC1 = cfg.accounts.acc1;
const MOVED = cfg.accounts.accMoved;
const OTHER = cfg.accounts.acc2; // in rep2's territory

// waitFor checks the device's local database until ok holds; it never asks
// the server (replication only pulls when the stream says so).
async function waitFor(what, ok, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await ok();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class Device {
  constructor(name, token) {
    this.name = name;
    this.token = token;
    this.pushed = []; // every document id the push handler sent
    this.resets = 0; // pull answers with reset: true
  }
  async open() {
    this.db = await createRxDatabase({ name: `${this.name}-${randomUUID()}`, storage: getRxStorageMemory() });
    await this.db.addCollections({ accounts: { schema: accountSchema }, account_notes: { schema: noteSchema } });
    return this;
  }
  start() {
    const onPush = (rows) => rows.forEach((r) => this.pushed.push(r.newDocumentState.id));
    const onPull = (body) => { if (body.reset) this.resets++; };
    const opts = { url: cfg.base, token: this.token, onPush, onPull };
    this.reps = {
      accounts: replicateFieldsync(this.db.accounts, opts),
      account_notes: replicateFieldsync(this.db.account_notes, opts),
    };
    for (const r of Object.values(this.reps)) {
      r.state.error$.subscribe((e) => console.error(`${this.name}:`, e?.message ?? e));
    }
    return this;
  }
  async stop() {
    await Promise.all(Object.values(this.reps).map((r) => r.cancel()));
  }
  async inSync() {
    await Promise.all(Object.values(this.reps).map((r) => r.state.awaitInSync()));
  }
  async doc(coll, id) {
    const d = await this.db[coll].findOne(id).exec();
    return d ? d.toJSON() : null;
  }
  async ids(coll) {
    return (await this.db[coll].find().exec()).map((d) => d.id).sort();
  }
}

const a = await new Device('rep1-a', cfg.tokens['rep1-a']).open();
const b = await new Device('rep1-b', cfg.tokens['rep1-b']).open();
after(async () => {
  await a.stop().catch(() => {});
  await b.stop().catch(() => {});
  await a.db.close();
  await b.db.close();
});

test('initial sync brings the rep\'s scope, and only it', async () => {
  a.start();
  await a.reps.accounts.state.awaitInitialReplication();
  await a.reps.account_notes.state.awaitInitialReplication();
  assert.deepEqual(await a.ids('accounts'), [ACC1, MOVED].sort());
  const acc = await a.doc('accounts', ACC1);
  assert.equal(acc.version, 1);
  assert.equal(typeof acc.lat, 'number');
  b.start();
  await b.inSync();
  assert.deepEqual(await b.ids('accounts'), [ACC1, MOVED].sort());
});

const n1 = randomUUID();
const n2 = randomUUID();

test('a note written on one device reaches the other through the stream', async () => {
  await a.db.account_notes.insert({ id: n1, account_id: ACC1, body: 'first visit went well' });
  await a.inSync();
  // The server's answer gave A the server-set fields.
  const mine = await waitFor('server fields on A', async () => (await a.doc('account_notes', n1))?.version === 1 && a.doc('account_notes', n1));
  assert.equal(mine.author_id, cfg.users.rep1);
  const theirs = await waitFor('note on B', () => b.doc('account_notes', n1));
  assert.equal(theirs.body, 'first visit went well');
});

test('offline create, edit and delete reach the server', async () => {
  await a.stop();
  await (await a.db.accounts.findOne(ACC1).exec()).incrementalPatch({ phone: '+49 89 1234' });
  await a.db.account_notes.insert({ id: n2, account_id: ACC1, body: 'written offline' });
  await (await a.db.account_notes.findOne(n1).exec()).remove();
  a.start();
  await a.inSync();
  // B holds what the server holds: it only hears from the server.
  await waitFor('phone on B', async () => (await b.doc('accounts', ACC1))?.phone === '+49 89 1234');
  await waitFor('offline note on B', async () => (await b.doc('account_notes', n2))?.body === 'written offline');
  await waitFor('deleted note gone on B', async () => (await b.doc('account_notes', n1)) === null);
  assert.equal((await a.doc('accounts', ACC1)).version, 2);
});

test('another device\'s edit arrives through the stream', async () => {
  await (await b.db.account_notes.findOne(n2).exec()).incrementalPatch({ body: 'edited on the tablet' });
  await b.inSync();
  await waitFor('edit on A', async () => (await a.doc('account_notes', n2))?.body === 'edited on the tablet');
});

test('concurrent offline edits converge as the policies say', async () => {
  await a.stop();
  await b.stop();
  // Different contact fields of one account: both edits are kept (field merge).
  await (await a.db.accounts.findOne(ACC1).exec()).incrementalPatch({ phone: '+49 89 5555' });
  await (await b.db.accounts.findOne(ACC1).exec()).incrementalPatch({ email: 'shop@example.com' });
  // The same note on both: the later push keeps its text in a conflict copy.
  await (await a.db.account_notes.findOne(n2).exec()).incrementalPatch({ body: 'A says' });
  await (await b.db.account_notes.findOne(n2).exec()).incrementalPatch({ body: 'B says' });
  b.start();
  await b.inSync();
  a.start();
  await a.inSync();
  const same = async () => {
    const [x, y] = [await a.doc('accounts', ACC1), await b.doc('accounts', ACC1)];
    return x.phone === '+49 89 5555' && y.phone === '+49 89 5555' &&
      x.email === 'shop@example.com' && y.email === 'shop@example.com' && x.version === y.version;
  };
  await waitFor('account merged on both devices', same);
  const notes = async (d) => JSON.stringify((await d.db.account_notes.find().exec()).map((n) => [n.id, n.body, n.version]).sort());
  await waitFor('notes equal on both devices', async () => (await notes(a)) === (await notes(b)));
  const bodies = (await a.db.account_notes.find().exec()).map((n) => n.body).sort();
  assert.ok(bodies.includes('A says') && bodies.includes('B says'), `both texts survive: ${bodies}`);
});

test('an account moved out of the rep\'s territory disappears', async () => {
  const r = await fetch(`${cfg.base}/v1/admin/accounts/${MOVED}`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${cfg.tokens.ops}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ territory_id: cfg.territories.t2 }),
  });
  assert.equal(r.status, 200, await r.text());
  await waitFor('moved account gone on A', async () => (await a.doc('accounts', MOVED)) === null);
  await waitFor('moved account gone on B', async () => (await b.doc('accounts', MOVED)) === null);
});

test('a rejected create is reported and not resent', async () => {
  const bad = randomUUID();
  await a.db.account_notes.insert({ id: bad, account_id: OTHER, body: 'not my account' });
  await a.inSync();
  await waitFor('rejected note removed', async () => (await a.doc('account_notes', bad)) === null);
  const [tomb] = await a.db.account_notes.storageInstance.findDocumentsById([bad], true);
  assert.equal(tomb._deleted, true);
  assert.equal(tomb.fieldsync_error?.code, 'not_found', JSON.stringify(tomb));
  // Later writes do not carry it again.
  const ok = randomUUID();
  await a.db.account_notes.insert({ id: ok, account_id: ACC1, body: 'fine' });
  await a.inSync();
  await waitFor('good note on B', () => b.doc('account_notes', ok));
  await a.reps.account_notes.state.reSync();
  await a.inSync();
  assert.equal(a.pushed.filter((id) => id === bad).length, 1, `pushed: ${a.pushed}`);
});

test('RESYNC after the stream reconnects brings what was missed', async () => {
  a.reps.accounts.dropStream();
  await (await b.db.accounts.findOne(ACC1).exec()).incrementalPatch({ address: 'Marienplatz 1' });
  await b.inSync();
  a.reps.accounts.reopenStream();
  await waitFor('missed edit on A', async () => (await a.doc('accounts', ACC1))?.address === 'Marienplatz 1');
});

test('a reset: a role change that changes the synced tables starts the collections over', async () => {
  const c = await new Device('rep2', cfg.tokens.rep2).open();
  c.start();
  await c.inSync();
  assert.deepEqual(await c.ids('accounts'), [OTHER, MOVED].sort());
  assert.equal(c.resets, 0);
  await c.stop();
  // rep2 becomes the order desk of T2: coordinators receive no notes, so the
  // server cannot continue rep2's cursors. The role change revokes tokens.
  const r = await fetch(`${cfg.base}/v1/admin/users/${cfg.users.rep2}`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${cfg.tokens.ops}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ role: 'coordinator' }),
  });
  assert.equal(r.status, 200, await r.text());
  const login = await fetch(`${cfg.base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'rep2@example.com', password: 'password1', device_id: 'rep2' }),
  });
  assert.equal(login.status, 200);
  c.token = (await login.json()).token;
  c.start();
  await c.inSync();
  assert.ok(c.resets >= 1, 'a pull answered reset: true');
  assert.deepEqual(await c.ids('accounts'), [OTHER, MOVED].sort());
  await c.stop();
  await c.db.close();
});
