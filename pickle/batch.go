package pickle

// CPython's picklers write the items of a list, dict or set in batches of
// at most _BATCHSIZE (1000) between MARK and APPENDS, SETITEMS or ADDITEMS.
// The C pickler and pickle.py differ in details that change the bytes (a
// lone item, an empty last batch); this file is the one place that knows
// them (docs/spec.md#pickle).

// batchStyle is which of CPython's batching loops to follow.
type batchStyle uint8

const (
	// batchList is C's batch_list_exact (an exact list): a list of one
	// item takes APPEND, otherwise every batch is MARK … APPENDS.
	batchList batchStyle = iota
	// batchDict is C's batch_dict_exact (an exact dict): a dict of one
	// item takes SETITEM, otherwise every batch is MARK … SETITEMS, and a
	// full last batch is followed by an empty one.
	batchDict
	// batchSet is C's save_set (protocol 4 and later): every batch is
	// MARK … ADDITEMS, and a full last batch is followed by an empty one.
	batchSet
	// batchIter is C's batch_list and batch_dict, pickle.py's
	// _batch_appends and _batch_setitems: list and dict subclasses and the
	// list and dict items of save_reduce. A batch of one item takes APPEND
	// or SETITEM.
	batchIter
)

// batcher walks the batches of n items: for b := e.batches(n, style);
// b.next(); { e.openBatch(&b); write items b.lo … b.hi-1; e.closeBatch(&b,
// single, multi) }. Protocol 0 has no MARK batches: each item is followed
// by APPEND or SETITEM.
type batcher struct {
	lo, hi   int // the current batch
	n        int
	style    batchStyle
	proto0   bool
	lastFull bool
	ended    bool
}

func (e *encState) batches(n int, style batchStyle) batcher {
	return batcher{n: n, style: style, proto0: e.proto == 0}
}

// next moves to the next batch and reports whether there is one.
func (b *batcher) next() bool {
	if b.ended {
		return false
	}
	if b.hi == b.n {
		b.ended = true
		// An empty batch after a full one, as C's do { … } while (i ==
		// BATCHSIZE) loops for dicts and sets write it.
		if b.lastFull && !b.proto0 && (b.style == batchDict || b.style == batchSet) {
			b.lo = b.hi
			return true
		}
		return false
	}
	size := 1
	if !b.proto0 {
		size = min(b.n-b.hi, batchSize)
	}
	b.lo, b.hi = b.hi, b.hi+size
	b.lastFull = size == batchSize
	return true
}

// single reports whether the current batch is one item followed by the
// single-item opcode (APPEND, SETITEM) rather than MARK … APPENDS/SETITEMS/ADDITEMS.
func (b *batcher) single() bool {
	switch {
	case b.proto0:
		return true
	case b.hi-b.lo != 1:
		return false
	case b.style == batchIter:
		return true
	case b.style == batchList, b.style == batchDict:
		return b.n == 1
	}
	return false
}

// openBatch writes what precedes the current batch's items.
func (e *encState) openBatch(b *batcher) {
	if !b.single() {
		e.b = append(e.b, opMark)
	}
}

// closeBatch writes the opcode that applies the current batch's items.
func (e *encState) closeBatch(b *batcher, single, multi byte) {
	if b.single() {
		e.b = append(e.b, single)
	} else {
		e.b = append(e.b, multi)
	}
}
