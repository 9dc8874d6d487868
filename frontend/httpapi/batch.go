package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fastjson"
)

// batchItem is one decoded item of a batch, or the reason it was rejected.
type batchItem struct {
	in  rememberInput
	err error
}

// handleBatch serves POST /api/v1/memories/batch: a JSON array of remember bodies or
// NDJSON. The valid items are stored with one RememberBatch call (one WAL group commit);
// invalid ones are reported by index.
func (s *Server) handleBatch(rq *request) error {
	arena := s.borrowArena()
	defer s.returnArena(arena)
	items, err := s.decodeBatch(rq, arena)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return invalidInput("the batch holds no memories")
	}
	opts, err := batchOptions(rq)
	if err != nil {
		return err
	}

	// The batch is one group commit, so it has one space: header > query > the items'
	// memory_space (which must then agree) > default.
	bodySpaceID := ""
	for _, it := range items {
		if it.err == nil && it.in.space != "" {
			bodySpaceID = it.in.space
			break
		}
	}
	sp, err := rq.writeSpace(bodySpaceID)
	if err != nil {
		return err
	}
	fromBody := rq.pinned == "" && rq.headerSpace() == "" && rq.querySpace() == ""

	valid := make([]int, 0, len(items))
	for i := range items {
		it := &items[i]
		if it.err != nil {
			continue
		}
		switch {
		case fromBody && it.in.space != "" && it.in.space != sp.ID():
			it.err = invalidInput("memory_space %q differs from the batch's memory space %q; send one batch per space", it.in.space, sp.ID())
		case it.in.autoLinkSet && it.in.opts.AutoLink != opts.AutoLink:
			it.err = invalidInput("auto_link applies to the whole batch; set it with the auto_link query parameter")
		case it.in.thresholdSet && it.in.opts.LinkThreshold != opts.LinkThreshold:
			it.err = invalidInput("link_threshold applies to the whole batch; set it with the link_threshold query parameter")
		default:
			valid = append(valid, i)
		}
	}
	if rate := sp.Settings().RateLimit; rate > 0 && float64(len(valid)) > rate {
		fe := frontend.Errorf(http.StatusTooManyRequests, frontend.CodeRateLimited,
			fmt.Sprintf("the batch holds %d memories but memory space %q accepts at most %g per second; send smaller batches", len(valid), sp.ID(), rate))
		fe.RetryAfter = 1
		return fe
	}
	if len(valid) > 0 {
		if err := rq.srv.opts.Limits.AllowRemember(sp, len(valid)); err != nil {
			return err
		}
	}

	mems := make([]engine.Memory, len(valid))
	for k, i := range valid {
		mems[k] = items[i].in.mem
	}
	results, errs := s.opts.Idempotency.RememberBatch(context.Background(), sp, mems, opts,
		string(rq.ctx.Request.Header.Peek(frontend.IdempotencyHeader)), valid)

	accepted := 0
	var systemic error
	for k, i := range valid {
		if errs[k] != nil {
			items[i].err = errs[k]
			if fe := frontend.FromError(errs[k]); fe.Status >= 500 || fe.Status == http.StatusTooManyRequests {
				systemic = errs[k]
			}
			continue
		}
		accepted++
	}
	// Nothing stored because of the server's state (overload, shutdown, capacity): answer
	// that state, with its Retry-After, rather than a 200 listing the same error n times.
	if accepted == 0 && systemic != nil {
		return systemic
	}

	b := getBuf()
	defer putBuf(b)
	dst := append(*b, `{"accepted":`...)
	dst = strconv.AppendInt(dst, int64(accepted), 10)
	dst = append(dst, `,"memory_ids":[`...)
	n := 0
	for k, i := range valid {
		if items[i].err != nil {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, results[k].Memory.ID)
		n++
	}
	dst = append(dst, `],"errors":[`...)
	n = 0
	for i := range items {
		if items[i].err == nil {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		fe := frontend.FromError(items[i].err)
		dst = append(dst, `{"index":`...)
		dst = strconv.AppendInt(dst, int64(i), 10)
		dst = append(dst, `,"error":`...)
		dst = appendString(dst, fe.Message)
		dst = append(dst, `,"code":`...)
		dst = appendString(dst, fe.Code)
		dst = append(dst, '}')
		n++
	}
	dst = append(dst, `],"memory_space_id":`...)
	dst = appendString(dst, sp.ID())
	dst = append(dst, '}')
	*b = dst
	writeRaw(rq.ctx, http.StatusOK, dst)
	return nil
}

// decodeBatch decodes every item; a malformed item is kept with its error so that its
// index is reported. The array is never parsed whole: vecjson.Elements splits it and each
// element is parsed alone (its embedding read ahead, parseMemoryJSON), so a parse holds
// one memory's values at a time.
func (s *Server) decodeBatch(rq *request, arena *vecArena) ([]batchItem, error) {
	ct := rq.ctx.Request.Header.ContentType()
	kind := classifyContentType(ct)
	if kind == bodyOther {
		return nil, unsupportedMediaType(ct, "application/json (an array of memories) or application/x-ndjson")
	}
	if err := rq.preauthorize(); err != nil {
		return nil, err
	}
	if kind == bodyNDJSON {
		return s.decodeNDJSON(rq, arena)
	}
	body, kind, err := rq.jsonBytes()
	if err != nil {
		return nil, err
	}
	elems, n, ok := vecjson.Elements(body, s.opts.MaxBatchItems)
	if !ok {
		if _, err := vecjson.Check(body, 0); err != nil {
			if kind == bodyForm {
				return nil, rq.notForm()
			}
			return nil, badRequest("malformed JSON body: %v", err)
		}
		return nil, invalidInput("a batch must be a JSON array of memories (or NDJSON with Content-Type application/x-ndjson), got %s", vecjson.TypeName(body))
	}
	if n > s.opts.MaxBatchItems {
		return nil, s.tooManyItems(n)
	}
	return s.decodeElements(rq.borrowParser(), body, elems, arena)
}

// decodeElements decodes the elements of the batch array body one by one with p, each
// embedding read ahead (parseMemoryJSON) into arena; an element that is not a memory
// object is kept with its error.
func (s *Server) decodeElements(p *fastjson.Parser, body []byte, elems [][]byte, arena *vecArena) ([]batchItem, error) {
	items := make([]batchItem, len(elems))
	for i, elem := range elems {
		v, vec, err := parseMemoryJSON(p, elem, arena.free(), s.maxValues)
		arena.took(vec)
		if err != nil {
			if errors.Is(err, vecjson.ErrTooManyValues) {
				return nil, tooManyValues(s.maxValues)
			}
			// The element is malformed, so the body is: name the fault at its offset in
			// the body.
			if _, cerr := vecjson.Check(body, 0); cerr != nil {
				err = cerr
			}
			return nil, badRequest("malformed JSON body: %v", err)
		}
		items[i].in.vec = vec
		// Every field is copied out of the parser here, so the next element may reuse it.
		items[i].err = decodeRemember(v, s.opts.MaxContentBytes, &items[i].in)
	}
	return items, nil
}

// tooManyItems answers a batch of n memories, more than a request may hold.
func (s *Server) tooManyItems(n int) error {
	return frontend.Errorf(http.StatusRequestEntityTooLarge, frontend.CodeTooLarge,
		fmt.Sprintf("the batch holds %d memories; the limit is %d per request", n, s.opts.MaxBatchItems))
}

// decodeNDJSON reads one memory per line; blank lines are skipped and do not count.
func (s *Server) decodeNDJSON(rq *request, arena *vecArena) ([]batchItem, error) {
	body := rq.ctx.Request.Body()
	p := rq.borrowParser()
	// Sized once: an item is a few hundred bytes, and growing the slice by append would
	// allocate it about five times over.
	items := make([]batchItem, 0, min(bytes.Count(body, []byte{'\n'})+1, s.opts.MaxBatchItems))
	n := 0
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if n++; n > s.opts.MaxBatchItems {
			continue // counted only
		}
		var it batchItem
		v, vec, err := parseMemoryJSON(p, line, arena.free(), s.maxValues)
		arena.took(vec)
		it.in.vec = vec
		switch {
		case errors.Is(err, vecjson.ErrTooManyValues):
			return nil, tooManyValues(s.maxValues)
		case err != nil:
			it.err = invalidInput("malformed JSON: %v", err)
		default:
			// Every field is copied out of the parser here, so the next line may reuse it.
			it.err = decodeRemember(v, s.opts.MaxContentBytes, &it.in)
		}
		items = append(items, it)
	}
	if n > s.opts.MaxBatchItems {
		return nil, s.tooManyItems(n)
	}
	return items, nil
}

// batchOptions reads the batch-wide auto_link and link_threshold query parameters.
func batchOptions(rq *request) (engine.RememberOptions, error) {
	var opts engine.RememberOptions
	args := rq.ctx.QueryArgs()
	if v := args.Peek("auto_link"); len(v) > 0 {
		b, err := strconv.ParseBool(string(v))
		if err != nil {
			return opts, badRequest("auto_link must be true or false, got %q", v)
		}
		opts.AutoLink = b
	}
	if v := args.Peek("link_threshold"); len(v) > 0 {
		f, err := strconv.ParseFloat(string(v), 32)
		if err != nil || !(f >= 0 && f <= 1) {
			return opts, badRequest("link_threshold must be a number between 0 and 1, got %q", v)
		}
		opts.LinkThreshold = float32(f)
	}
	return opts, nil
}
