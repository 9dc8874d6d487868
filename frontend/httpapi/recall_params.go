package httpapi

import (
	"strconv"
	"strings"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// recallParams are the parameters of the recall and probabilistic query routes, read from
// the query string (GET) or a JSON body (POST) with the same names.
type recallParams struct {
	cue                engine.Cue
	includeMetadata    bool
	includeEvidence    bool
	includeUncertainty bool
	space              string // body memory_space / memory_space_id
}

func newRecallParams() recallParams {
	return recallParams{cue: engine.Cue{Threshold: engine.DefaultRecallThreshold}}
}

// readRecallParams reads the parameters of a GET (query string) or POST (JSON body).
func readRecallParams(rq *request) (recallParams, error) {
	p := newRecallParams()
	var err error
	for k, v := range rq.ctx.QueryArgs().All() {
		if err == nil {
			err = p.set(rq, string(k), string(v))
		}
	}
	if err != nil {
		return p, err
	}
	if rq.ctx.IsPost() {
		if err := p.readBody(rq); err != nil {
			return p, err
		}
	}
	return p, p.check()
}

// readBody takes the parameters of a POST body; a body value overrides the query string.
func (p *recallParams) readBody(rq *request) error {
	// The embedding is read ahead as a memory's is, so its elements never count against the
	// bound on parsed values; vec is the request's buffer, and the engine copies a cue's
	// embedding before the handler returns it.
	root, vec, err := rq.memoryBody()
	if err != nil {
		return err
	}
	obj, err := root.Object()
	if err != nil {
		return badRequest("the request body must be a JSON object, got %s", root.Type())
	}
	var first error
	var spaceName, spaceIDv2 string
	obj.Visit(func(key []byte, f *fastjson.Value) {
		if first != nil || f.Type() == fastjson.TypeNull {
			return
		}
		k := string(key)
		switch {
		case k == "memory_space":
			spaceName, first = fieldString(f, k)
		case k == "memory_space_id":
			spaceIDv2, first = fieldString(f, k)
		case k == "embedding" && f.Type() == fastjson.TypeArray:
			if vec != nil {
				p.cue.Embedding = vec // f is the empty placeholder left in its place
			} else {
				p.cue.Embedding, first = fieldEmbedding(f, k)
			}
		case (k == "required_tags" || k == "excluded_tags") && f.Type() == fastjson.TypeArray:
			var tags []string
			if tags, first = fieldStrings(f, k); first == nil {
				p.setTags(k, tags, false)
			}
		case !isRecallParam(k) && k != "limit":
			// Unknown: ignored without copying its value out of the parser.
		case f.Type() == fastjson.TypeString:
			first = p.set(rq, k, string(f.GetStringBytes()))
		case f.Type() == fastjson.TypeNumber || f.Type() == fastjson.TypeTrue || f.Type() == fastjson.TypeFalse:
			first = p.set(rq, k, f.String())
		default:
			first = badRequest("%s has the wrong JSON type (%s)", k, f.Type())
		}
	})
	if first != nil {
		return first
	}
	p.space, err = bodySpace(spaceName, spaceIDv2)
	return err
}

func isRecallParam(k string) bool {
	switch k {
	case "query", "embedding", "max_results", "threshold", "mode", "trace_activation", "include_metadata",
		"required_tags", "excluded_tags", "from_time", "to_time", "include_evidence", "include_uncertainty":
		return true
	}
	return false
}

// set applies one textual parameter. Unknown names are ignored (space is read by the
// space rule, and clients may add cache busters).
func (p *recallParams) set(rq *request, key, val string) error {
	switch key {
	case "query":
		p.cue.Query = val
	case "embedding":
		v, err := parseEmbeddingParam(rq, val)
		if err != nil {
			return err
		}
		p.cue.Embedding = v
	case "max_results", "limit":
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 1 || n > engine.MaxMaxResults {
			return badRequest("%s must be an integer from 1 to %d, got %q", key, engine.MaxMaxResults, val)
		}
		p.cue.MaxResults = n
	case "threshold":
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 32)
		if err != nil || !(f >= 0 && f <= 1) {
			return badRequest("threshold must be a number between 0 and 1, got %q", val)
		}
		p.cue.Threshold = float32(f)
	case "mode":
		m, err := frontend.ParseRecallMode(val)
		if err != nil {
			return err
		}
		p.cue.Mode = m
	case "trace_activation":
		return parseBoolParam(key, val, &p.cue.Trace)
	case "include_metadata":
		return parseBoolParam(key, val, &p.includeMetadata)
	case "include_evidence":
		return parseBoolParam(key, val, &p.includeEvidence)
	case "include_uncertainty":
		return parseBoolParam(key, val, &p.includeUncertainty)
	case "required_tags", "excluded_tags":
		p.setTags(key, splitList(val), true)
	case "from_time", "to_time":
		t, err := parseTime(val)
		if err != nil {
			return badRequest("%s must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got %q", key, val)
		}
		if key == "from_time" {
			p.cue.From = t
		} else {
			p.cue.To = t
		}
	}
	return nil
}

func (p *recallParams) setTags(key string, tags []string, appendTo bool) {
	dst := &p.cue.RequiredTags
	if key == "excluded_tags" {
		dst = &p.cue.ExcludedTags
	}
	if appendTo {
		*dst = append(*dst, tags...)
	} else {
		*dst = tags
	}
}

// check applies the rules that involve several parameters.
func (p *recallParams) check() error {
	if strings.TrimSpace(p.cue.Query) == "" && len(p.cue.Embedding) == 0 {
		return badRequest("query or embedding is required (at least one)")
	}
	if !p.cue.From.IsZero() && !p.cue.To.IsZero() && p.cue.To.Before(p.cue.From) {
		return badRequest("to_time is before from_time")
	}
	return nil
}

func parseBoolParam(key, val string, dst *bool) error {
	switch strings.ToLower(strings.TrimSpace(val)) {
	case "", "true", "1", "yes", "on":
		*dst = true
	case "false", "0", "no", "off":
		*dst = false
	default:
		return badRequest("%s must be true or false, got %q", key, val)
	}
	return nil
}

// parseEmbeddingParam reads an embedding given as a JSON array in a query parameter.
func parseEmbeddingParam(rq *request, val string) ([]float32, error) {
	var p *fastjson.Parser
	if rq.ctx.IsPost() {
		p = new(fastjson.Parser) // the borrowed parser holds the body being walked
	} else {
		p = rq.borrowParser()
	}
	v, err := parseJSON(p, []byte(val), rq.srv.maxValues)
	if err != nil {
		return nil, badRequest("embedding must be a JSON array of numbers such as [0.1,0.2], got %.40q (%v)", val, err)
	}
	emb, err := fieldEmbedding(v, "embedding")
	if err != nil {
		return nil, err
	}
	return emb, nil
}

// boolArg reads an optional boolean query parameter.
func boolArg(args *fasthttp.Args, key string) (bool, error) {
	v := args.Peek(key)
	if v == nil {
		return false, nil
	}
	var b bool
	err := parseBoolParam(key, string(v), &b)
	return b, err
}
