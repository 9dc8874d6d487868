package tier

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestBitmapRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		n    int
		set  []int
	}{
		{"empty", 0, nil},
		{"one unset", 1, nil},
		{"one set", 1, []int{0}},
		{"word boundary", 64, []int{0, 63}},
		{"past a word", 65, []int{64}},
		{"many", 1000, []int{1, 2, 3, 500, 999, 640}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBitmap(tt.n)
			for _, i := range tt.set {
				if !b.Set(i) {
					t.Fatalf("Set(%d) on a fresh bitmap reported already set", i)
				}
				if b.Set(i) {
					t.Fatalf("second Set(%d) reported newly set", i)
				}
			}
			path := filepath.Join(t.TempDir(), "seg.del")
			if err := WriteBitmap(path, b); err != nil {
				t.Fatalf("WriteBitmap: %v", err)
			}
			got, err := ReadBitmap(path, tt.n)
			if err != nil {
				t.Fatalf("ReadBitmap: %v", err)
			}
			if got.Len() != tt.n || got.Count() != len(tt.set) {
				t.Fatalf("Len, Count = %d, %d; want %d, %d", got.Len(), got.Count(), tt.n, len(tt.set))
			}
			want := make(map[int]bool)
			for _, i := range tt.set {
				want[i] = true
			}
			for i := -1; i <= tt.n; i++ {
				if got.Has(i) != want[i] {
					t.Fatalf("Has(%d) = %v, want %v", i, got.Has(i), want[i])
				}
			}
		})
	}
}

func TestBitmapMissingFileIsEmpty(t *testing.T) {
	b, err := ReadBitmap(filepath.Join(t.TempDir(), "none.del"), 10)
	if err != nil {
		t.Fatalf("ReadBitmap: %v", err)
	}
	if b.Len() != 10 || b.Count() != 0 {
		t.Errorf("Len, Count = %d, %d; want 10, 0", b.Len(), b.Count())
	}
}

func TestBitmapNil(t *testing.T) {
	var b *Bitmap
	if b.Len() != 0 || b.Count() != 0 || b.Has(0) {
		t.Error("a nil bitmap is not empty")
	}
}

func TestBitmapSetOutOfRangePanics(t *testing.T) {
	for _, i := range []int{-1, 5} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Set(%d) on a bitmap of 5 did not panic", i)
				}
			}()
			NewBitmap(5).Set(i)
		}()
	}
}

func TestBitmapConcurrentSet(t *testing.T) {
	b := NewBitmap(4096)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 4096; i += 2 {
				b.Set(i)
				b.Has(i + 1)
			}
		}()
	}
	wg.Wait()
	if b.Count() != 4096 {
		t.Errorf("Count = %d after setting every bit, want 4096", b.Count())
	}
}

func TestReadBitmapDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seg.del")
	b := NewBitmap(100)
	b.Set(3)
	b.Set(99)
	if err := WriteBitmap(path, b); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every byte is under the trailing checksum, so every flip is detected.
	for at := range good {
		bad := append([]byte(nil), good...)
		bad[at] ^= 0x04
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadBitmap(path, 100); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flipping byte %d: %v, want ErrCorrupt", at, err)
		}
	}
	tests := []struct {
		name string
		data []byte
		n    int
	}{
		{"wrong record count", good, 101},
		{"truncated", good[:len(good)-3], 100},
		{"empty file", nil, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadBitmap(path, tt.n); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("ReadBitmap = %v, want ErrCorrupt", err)
			}
		})
	}
}
