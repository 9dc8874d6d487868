package httpapi

// maxPooledBatchFloats bounds the batch embedding buffers kept for reuse: 4 MiB, a batch
// of 1,365 768-d memories.
const maxPooledBatchFloats = 1 << 20

// vecArena holds the embeddings of one batch request back to back, so that a batch of 100
// 768-d memories reads them into one borrowed buffer instead of allocating 100 vectors.
// An embedding that does not fit is allocated on its own, and the buffer lent to the next
// batch is sized for all of them. Its embeddings must not outlive the request, which holds
// (the engine keeps no reference to a remembered memory's embedding). A nil *vecArena
// lends nothing.
type vecArena struct {
	buf  []float32 // len == cap
	used int       // floats of buf holding this batch's embeddings
	need int       // floats this batch's embeddings took, in buf or not
}

// free is where the next embedding may be read (vecjson.Cut uses it when it has room).
func (a *vecArena) free() []float32 {
	if a == nil {
		return nil
	}
	return a.buf[a.used:]
}

// took records vec, the embedding read after free was called.
func (a *vecArena) took(vec []float32) {
	if a == nil || len(vec) == 0 {
		return
	}
	a.need += len(vec)
	if a.used < len(a.buf) && &vec[0] == &a.buf[a.used] {
		a.used += len(vec)
	}
}

// borrowArena lends a batch request an embedding buffer; returnArena takes it back once
// the batch is stored and answered.
func (s *Server) borrowArena() *vecArena {
	a, _ := s.batchVecs.Get().(*vecArena)
	if a == nil {
		a = &vecArena{}
	}
	return a
}

func (s *Server) returnArena(a *vecArena) {
	if a.need > len(a.buf) {
		if a.need > maxPooledBatchFloats {
			return
		}
		a.buf = make([]float32, a.need)
	}
	a.used, a.need = 0, 0
	s.batchVecs.Put(a)
}
