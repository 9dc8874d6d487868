package embed

import (
	"testing"
)

// FuzzProviderAnswers feeds arbitrary bodies to both wire decoders: they return one vector
// per text or an error, never panic, and never hand back an empty vector.
func FuzzProviderAnswers(f *testing.F) {
	f.Add([]byte(`{"data":[{"index":1,"embedding":[1,2]},{"index":0,"embedding":[3,4]}]}`), 2)
	f.Add([]byte(`{"embeddings":[[1,2],[3,4]]}`), 2)
	f.Add([]byte(`{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}`), 2)
	f.Add([]byte(`{"data":[{"index":-1}]}`), 1)
	f.Add([]byte(`{"error":{"message":"no"}}`), 0)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		if n < 0 || n > 64 {
			return
		}
		for _, w := range []wire{openAIWire{}, ollamaWire{}} {
			vecs, err := w.vectors(body, n)
			if err != nil {
				continue
			}
			if len(vecs) != n {
				t.Fatalf("%T: %d vectors for %d texts", w, len(vecs), n)
			}
			for i, v := range vecs {
				if len(v) == 0 {
					t.Fatalf("%T: vector %d missing", w, i)
				}
			}
			_ = w.message(body)
		}
	})
}
