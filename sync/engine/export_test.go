package engine

import "github.com/fieldsync/fieldsync/domain"

// SetNaiveSeqCursor makes e page by seq alone, without the pull bound (xid below store.DB.PullBound).
func SetNaiveSeqCursor(e *Engine) { e.naiveSeq = true }

// SetPushHook makes e call fn at the points of every push transaction.
func SetPushHook(e *Engine, fn func(point PushPoint, a domain.Caller, err error)) { e.pushHook = fn }
