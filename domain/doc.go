// Package domain holds Fieldsync's types and rules: the synced rows of the
// contract, roles and scope keys, validation, the visit and order state machines,
// pricing and the merge functions of the conflict policies. It is pure Go: it
// imports neither the HTTP framework nor the ORM, so every rule is table-testable.
package domain
