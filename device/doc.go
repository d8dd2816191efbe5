// Package device is the Fieldsync device SDK: a local SQLite mirror of the
// user's scope, an outbox of offline writes, and Sync, which pushes the outbox and
// pulls changes (docs/protocol.md §3–4). It depends only on domain and wire, so an app,
// the simulator and the black-box tests all use the server through its contract.
//
// Local model. Each synced table holds, per row, the server's copy (server_row,
// version) and the local view (row): the server copy with the pending outbox
// mutations replayed on top. Reads return the view; base_version is always the
// server version the edit started from. Because the server copy is kept, a
// rejected mutation is undone locally without asking the server.
//
// Edits of one row made before it is pushed are coalesced into one mutation
// (same base_version, merged patch): the server then sees one edit starting from
// the version the user saw, never the device's own earlier edit as a concurrent
// change (which would turn a rep's two edits of an order's lines into a conflict
// with themselves). A mutation already sent is never altered, since a resend must
// be byte-identical; a later edit of that row becomes a new mutation, pushed only
// after the earlier one is acknowledged, with its base_version moved to the
// version the server returned for it.
//
// Results. applied/merged: the row takes the server's answer and the mutation
// leaves the outbox. conflict: the same, and the attempt is listed by
// Conflicts. rejected: the mutation stays in the outbox as failed (listed by
// Failed with the server's error, never resent, removed by DismissFailed) and
// the row shows the server copy again; SyncReport.Rejected tells the app to
// look. A network error, a 5xx or a 429 stops Sync with the outbox intact
// (IsRetryable); retrying resends the same mutations byte for byte.
package device
