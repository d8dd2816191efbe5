package sync

// SetNaiveSeqCursor makes e page by seq alone, without the xmin bound.
func SetNaiveSeqCursor(e *Engine) { e.naiveSeq = true }
