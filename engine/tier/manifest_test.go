package tier

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestManifestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    Manifest
	}{
		{"empty", Manifest{Version: ManifestVersion, Segments: []SegmentRef{}}},
		{"version left zero", Manifest{CheckpointLSN: 5, Segments: []SegmentRef{}}},
		{"full", Manifest{
			Version:       ManifestVersion,
			CheckpointLSN: 1<<63 + 12345,
			Segments: []SegmentRef{
				{Name: "warm/0000000000000003.seg", Kind: KindWarm, Count: 1000, Deleted: "warm/0000000000000003.del"},
				{Name: "cold/0000000000000001.seg", Kind: KindCold, Count: 250000},
			},
			Hot:   "hot/0000000000000004.seg",
			Edges: "edges/0000000000000004.edges",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := SaveManifest(dir, tt.m); err != nil {
				t.Fatalf("SaveManifest: %v", err)
			}
			got, err := LoadManifest(dir)
			if err != nil {
				t.Fatalf("LoadManifest: %v", err)
			}
			want := tt.m
			want.Version = ManifestVersion
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("LoadManifest = %+v, want %+v", got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, ManifestName+".tmp")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("temporary manifest left behind: %v", err)
			}
		})
	}
}

func TestManifestMissingIsEmpty(t *testing.T) {
	m, err := LoadManifest(t.TempDir())
	if err != nil {
		t.Fatalf("LoadManifest: %v", err)
	}
	if m.Version != ManifestVersion || m.CheckpointLSN != 0 || len(m.Segments) != 0 || m.Hot != "" || m.Edges != "" {
		t.Errorf("LoadManifest of an empty folder = %+v, want an empty manifest", m)
	}
}

func TestManifestIsReadable(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{CheckpointLSN: 42, Segments: []SegmentRef{{Name: "cold/1.seg", Kind: KindCold, Count: 3}}}
	if err := SaveManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ENGRAM-MANIFEST 1 ", `"checkpoint_lsn": 42`, `"kind": "cold"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("manifest lacks %q:\n%s", want, data)
		}
	}
}

func TestSaveManifestRejects(t *testing.T) {
	seg := func(name string) SegmentRef { return SegmentRef{Name: name, Kind: KindWarm, Count: 1} }
	tests := []struct {
		name string
		m    Manifest
	}{
		{"future version", Manifest{Version: 2}},
		{"escaping name", Manifest{Segments: []SegmentRef{seg("../other/warm/1.seg")}}},
		{"absolute name", Manifest{Segments: []SegmentRef{seg("/etc/passwd")}}},
		{"unclean name", Manifest{Segments: []SegmentRef{seg("warm//1.seg")}}},
		{"empty name", Manifest{Segments: []SegmentRef{seg("")}}},
		{"duplicate segment", Manifest{Segments: []SegmentRef{seg("warm/1.seg"), seg("warm/1.seg")}}},
		{"bitmap named like a segment", Manifest{Segments: []SegmentRef{{Name: "warm/1.seg", Kind: KindWarm, Deleted: "warm/1.seg"}}}},
		{"unknown kind", Manifest{Segments: []SegmentRef{{Name: "warm/1.seg", Kind: 7}}}},
		{"negative count", Manifest{Segments: []SegmentRef{{Name: "warm/1.seg", Kind: KindCold, Count: -1}}}},
		{"escaping hot", Manifest{Hot: "../hot.seg"}},
		{"escaping edges", Manifest{Edges: "/tmp/edges"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := SaveManifest(dir, tt.m); !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("SaveManifest = %v, want ErrInvalidArgument", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a rejected manifest left %d files", len(entries))
			}
		})
	}
}

func TestLoadManifestDamage(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{
		CheckpointLSN: 99,
		Segments:      []SegmentRef{{Name: "warm/1.seg", Kind: KindWarm, Count: 10, Deleted: "warm/1.del"}},
		Hot:           "hot/2.seg",
	}
	if err := SaveManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ManifestName)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	versionAt := len(manifestMagic) + 1
	for at := range good {
		bad := append([]byte(nil), good...)
		bad[at] ^= 0x01
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadManifest(dir)
		want := ErrCorrupt
		if at == versionAt {
			want = ErrVersion // '1' becomes '0': a well-formed line naming another version
		}
		if !errors.Is(err, want) {
			t.Fatalf("flipping byte %d (%q): %v, want %v", at, good[at], err, want)
		}
	}
	for _, cut := range []int{0, 10, len(good) / 2, len(good) - 1} {
		if err := os.WriteFile(path, good[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadManifest(dir); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("manifest cut to %d bytes: %v, want ErrCorrupt", cut, err)
		}
	}
}
