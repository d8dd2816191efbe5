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
//
// Errors. Every error carries a code: domain.ErrorCode(err) is the contract's
// code for an answer of the server (a *ServerError), the code of a rule the
// SDK checked locally before queueing an edit (validation_failed,
// illegal_transition, not_found...), or CodeNetwork ("network") when no
// complete answer came back (a *NetworkError: no connection, a timeout, a cut
// connection). Only a bug reports "internal".
//
// Reads and writes. Reads (Accounts, TodaysVisits, VisitsOn, Orders, ...) and
// edits (PlanVisit, CheckIn, CheckOut, DraftOrder, ...) work offline on the
// mirror. Fields the server computes are overwritten whatever the app sets:
// an order line's unit price and the order's total (from the catalogue), a
// visit's check-in distance. Discounts are percentages (domain.Percent, 1250 =
// 12.5 %). Visit outcome codes are the Outcome constants or an app's own.
//
// Attachments (docs/protocol.md §11). Attach queues a photo, signature or
// document on a visit, order or note offline: the file (a path, or bytes) is
// copied into the directory beside the device file (path + ".files", mode
// 0700), its sha256 and size go into the attachment row, and the row joins the
// outbox after the mutation that created its parent. Sync pushes rows, never
// bytes. UploadAttachments sends the bytes of every row the server has
// acknowledged, over tus in chunks of Options.UploadChunk, reporting progress
// through a callback; it runs beside Sync (a large photo never holds up an
// order) and stops at the first network error with everything queued. The
// upload's URL is saved before its first byte, so the next call, also after a
// crash or a restart, asks the server how much it has (tus HEAD) and sends only
// the rest. A file leaves the device only when the server confirmed it: the
// last PATCH answered, an attachment_stored answer (the server had the bytes,
// or an answer was lost), or a pulled row with status "stored". Bytes damaged
// in transit (checksum_mismatch) are sent again from zero next time; a row the
// server rejected, or a local file that no longer matches its sha256, leaves
// the upload failed (Uploads lists it, DiscardUpload drops it). OpenAttachment
// downloads an attachment or its thumbnail on demand. See
// ExampleClient_UploadAttachments.
//
// The token. The device token is a bearer secret; it is kept by a TokenStore,
// never in the mirror file: by default a file of mode 0600 beside it (the
// mirror itself is made 0600 too). On iOS and Android give Options.TokenStore
// an implementation over the Keychain or the Android Keystore; see TokenStore.
//
// Getting the SDK. The SDK is the package github.com/fieldsync/fieldsync/device
// of the server's module; it needs cgo (SQLite). Where that module path is
// served (the public repository, or a module proxy or private host with
// GOPRIVATE set), an app runs
//
//	go get github.com/fieldsync/fieldsync/device@latest
//
// Otherwise, vendor it from a checkout of the repository next to the app:
//
//	go mod edit -require=github.com/fieldsync/fieldsync@v0.0.0 -replace=github.com/fieldsync/fieldsync=../fieldsync
//	go mod tidy && go mod vendor   # vendor/ then holds device, domain and wire
//
// Example (example_test.go) is a rep's day against a server started in the
// same process; it is run by the test suite, so it stays true.
package device
