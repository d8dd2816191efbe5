// The whole client side of an RxDB app syncing with Fieldsync: a pull
// handler, a push handler and a pull.stream$ fed by Server-Sent Events.
// docs/clients.md quotes this file.
import { replicateRxCollection } from 'rxdb/plugins/replication';
import { Subject } from 'rxjs';
import { EventSource } from 'eventsource';

// Node has no EventSource of its own before 22; browsers do, but a browser's
// cannot send an Authorization header: there, pass the token with a
// polyfill like this one (`eventsource` or `event-source-polyfill`).
function openStream(url, token, stream$) {
  const es = new EventSource(url, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } }),
  });
  // Each message is "RESYNC": pull again from the stored checkpoint.
  es.onmessage = (e) => stream$.next(JSON.parse(e.data));
  return es;
}

export function replicateFieldsync(collection, { url, token, batchSize = 50, onPush, onPull }) {
  const base = `${url}/v1/rxdb/${collection.name}`;
  const auth = { Authorization: `Bearer ${token}` };
  const stream$ = new Subject();
  let es = openStream(`${base}/stream`, token, stream$);
  const state = replicateRxCollection({
    collection,
    replicationIdentifier: `fieldsync:${url}:${collection.name}`,
    live: true,
    retryTime: 1000,
    pull: {
      batchSize,
      async handler(checkpoint, size) {
        const q = new URLSearchParams({ cursor: checkpoint?.cursor ?? '', batchSize: String(size) });
        const r = await fetch(`${base}/pull?${q}`, { headers: auth });
        if (!r.ok) throw new Error(`pull ${collection.name}: ${r.status} ${await r.text()}`);
        const body = await r.json(); // {documents, checkpoint}, and reset: true when the server started over
        onPull?.(body);
        return body;
      },
      stream$: stream$.asObservable(),
    },
    push: {
      batchSize,
      async handler(rows) {
        onPush?.(rows);
        const r = await fetch(`${base}/push`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: JSON.stringify(rows),
        });
        if (!r.ok) throw new Error(`push ${collection.name}: ${r.status} ${await r.text()}`);
        return r.json(); // the server's documents where they differ
      },
    },
  });
  return {
    state,
    // Tests drop and reopen the stream to show RESYNC after a reconnect.
    dropStream() { es.close(); },
    reopenStream() { es = openStream(`${base}/stream`, token, stream$); },
    async cancel() { es.close(); await state.cancel(); },
  };
}
