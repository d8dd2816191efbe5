// Package device is the Fieldsync device SDK: a local SQLite mirror of the
// user's scope, an outbox of offline writes, and Sync, which pushes the outbox and
// pulls changes (PROTOCOL.md §3–4). It depends only on domain and wire, so an app,
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
package device
