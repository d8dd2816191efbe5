// Package acceptance holds the black-box acceptance suite of the sync contract
// (docs/protocol.md §4): every guarantee of pull, every rule of push and every
// conflict policy, proved end to end through the real HTTP server and the device
// SDK, on SQLite and on Postgres. It has no code of its own, only tests.
package acceptance
