package pgconn

// Queued reports the batches running and the lookups waiting for a slot, so
// that tests can line lookups up without sleeping.
func (b *Lookups[R]) Queued() (inflight, pending int) { return b.calls.Queued() }
