package apikey

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAuthenticate measures one check of a valid key against files of n keys: a
// SHA-256 plus n constant-time digest comparisons.
func BenchmarkAuthenticate(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprint("keys=", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "keys.json")
			f := &File{Version: FormatVersion}
			var last string
			for i := 0; i < n; i++ {
				key, hash, err := NewKey()
				if err != nil {
					b.Fatal(err)
				}
				f.Keys = append(f.Keys, Entry{ID: fmt.Sprint("key_", i), Hash: hash, Spaces: []string{"alpha"}, CreatedAt: time.Now()})
				last = key
			}
			if err := WriteFile(path, f); err != nil {
				b.Fatal(err)
			}
			s, err := Open(path, Options{Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Authenticate(last); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
