package store

import "gorm.io/gorm"

// GormOf gives this package's external tests the GORM handle of tx, to read
// tables no store function exposes.
func GormOf(tx *Tx) *gorm.DB { return tx.g }

// The one-statement and two-statement loads of a user's part of the tree,
// compared by TestLoadOwnPart_SameAsTwoStatements.
var (
	LoadOwnPart    = loadOwnPart
	LoadViewer     = loadViewer
	TerritoryNodes = territoryNodes
)
