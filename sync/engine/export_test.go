package engine

// SetNaiveSeqCursor makes e page by seq alone, without the xmin bound.
func SetNaiveSeqCursor(e *Engine) { e.naiveSeq = true }

// SetPushHook makes e call fn at the points of every push transaction.
func SetPushHook(e *Engine, fn func(point PushPoint, a Actor, err error)) { e.pushHook = fn }
