package httpapi

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fastjson"
)

// FuzzCutEmbedding: a body decodes to the same memory, or fails with the same error,
// whether its embedding is read ahead or fastjson reads it all.
func FuzzCutEmbedding(f *testing.F) {
	f.Add(rememberBody(rand.New(rand.NewPCG(1, 2)), 8, 1))
	for _, seed := range []string{
		`{"content":"x","embedding":[1,2,3],"confidence":0.5,"tags":["a"],"timestamp":"2024-01-01T00:00:00Z"}`,
		`{"content":"x","embedding":[1e39]}`,
		`{"content":"x","embedding":[1],"embedding":[2]}`,
		`{"content":"x","embedding":[1]} junk`,
		`{"content":"x","embedding":[0.5],"confidence":7}`,
		`{"what":"w","when":"2024-01-01T00:00:00Z","embedding":[-0.0,3]}`,
		`{"content":"\ud800","embedding":[1]}`,
		`{"meta":{"embedding":[9]},"content":"]","embedding":[7]}`,
		`{"content":"x","embedding":[01]}`, `{"content":"x","embedding":[1.]}`, `{"content":"x","embedding":[.5,1]}`,
		`{"content":"x","embedding":[1],"c":+1}`, `{"content":"x","embedding":[0,0]}`, `{"content":"a` + "\n" + `","embedding":[1]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, decode := range []func(*fastjson.Value, int, *rememberInput) error{decodeRemember, decodeEpisode} {
			var whole, cut fastjson.Parser
			v1, err1 := parseJSON(&whole, body, 0)
			v2, vec, err2 := parseMemoryJSON(&cut, body, nil, 0)
			if errString(err1) != errString(err2) {
				t.Fatalf("parse errors differ: %v / %v", err1, err2)
			}
			if err1 != nil {
				return
			}
			var a rememberInput
			b := rememberInput{vec: vec}
			err1, err2 = decode(v1, 1024, &a), decode(v2, 1024, &b)
			if errString(err1) != errString(err2) {
				t.Fatalf("decode errors differ: %v / %v", err1, err2)
			}
			if err1 != nil {
				continue
			}
			if len(a.mem.Embedding) != len(b.mem.Embedding) {
				t.Fatalf("embeddings differ: %v / %v", a.mem.Embedding, b.mem.Embedding)
			}
			for i := range a.mem.Embedding {
				if math.Float32bits(a.mem.Embedding[i]) != math.Float32bits(b.mem.Embedding[i]) {
					t.Fatalf("embedding[%d]: %v / %v", i, a.mem.Embedding[i], b.mem.Embedding[i])
				}
			}
			a.mem.Embedding, b.mem.Embedding, b.vec = nil, nil, nil
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("decoded memories differ:\n%+v\n%+v", a, b)
			}
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzBatchElements: a batch array decoded element by element (vecjson.Elements, each
// embedding read ahead, some into a shared arena) gives the items the array parsed whole gives, and is refused
// exactly when the whole array is malformed.
func FuzzBatchElements(f *testing.F) {
	one := string(rememberBody(rand.New(rand.NewPCG(1, 2)), 8, 1))
	for _, seed := range []string{
		`[]`, `[` + one + `,` + one + `]`,
		`[{"content":"x","embedding":[1,2]},{"content":""},{"content":"y","embedding":"no"}]`,
		`[{"content":"x"},]`, `[{"content":"x"} {"content":"y"}]`, `[1, "two", null]`,
		`[{"content":"\ud800"}]`, `[{"content":"x","embedding":[1e39]}] `,
	} {
		f.Add([]byte(seed))
	}
	s := &Server{opts: frontend.Options{MaxContentBytes: 1 << 10, MaxBatchItems: 100}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p fastjson.Parser
		ok := false
		var got []batchItem
		if elems, n, split := vecjson.Elements(body, s.opts.MaxBatchItems); split && n <= s.opts.MaxBatchItems {
			var err error
			// A small arena: some embeddings are read into it, the others allocated.
			got, err = s.decodeElements(&p, body, elems, &vecArena{buf: make([]float32, 8)})
			ok = err == nil
		}
		var whole fastjson.Parser
		v, err := parseJSON(&whole, body, 0)
		var arr []*fastjson.Value
		if err == nil {
			arr, err = v.Array()
		}
		if err != nil {
			if ok {
				t.Fatalf("the whole body is refused (%v), the elements were accepted", err)
			}
			return
		}
		if !ok {
			if len(arr) <= s.opts.MaxBatchItems {
				t.Fatalf("a valid array of %d elements was not decoded element by element", len(arr))
			}
			return
		}
		if len(arr) != len(got) {
			t.Fatalf("%d elements, the whole array has %d", len(got), len(arr))
		}
		for i, v := range arr {
			var want rememberInput
			werr := decodeRemember(v, s.opts.MaxContentBytes, &want)
			if errString(werr) != errString(got[i].err) {
				t.Fatalf("item %d: error %v, whole array %v", i, got[i].err, werr)
			}
			g := got[i].in
			if len(g.mem.Embedding) != len(want.mem.Embedding) {
				t.Fatalf("item %d: embeddings differ", i)
			}
			for k := range g.mem.Embedding {
				if math.Float32bits(g.mem.Embedding[k]) != math.Float32bits(want.mem.Embedding[k]) {
					t.Fatalf("item %d: embedding[%d] %v / %v", i, k, g.mem.Embedding[k], want.mem.Embedding[k])
				}
			}
			g.mem.Embedding, want.mem.Embedding, g.vec = nil, nil, nil
			if !reflect.DeepEqual(g, want) {
				t.Fatalf("item %d differs:\n%+v\n%+v", i, g, want)
			}
		}
	})
}
