package store

import "gorm.io/gorm"

// GormOf gives this package's external tests the GORM handle of tx, to read
// tables no store function exposes.
func GormOf(tx *Tx) *gorm.DB { return tx.g }
