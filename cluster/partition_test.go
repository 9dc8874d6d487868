package cluster

import "testing"

func TestPartitionOf(t *testing.T) {
	tests := []struct {
		space      string
		partitions int
	}{
		{"default", 1}, {"default", 3}, {"tenant-a", 3}, {"tenant-b", 64}, {"x", 1024},
	}
	for _, tt := range tests {
		p := PartitionOf(tt.space, tt.partitions)
		if p < 0 || p >= tt.partitions {
			t.Errorf("PartitionOf(%q, %d) = %d, out of range", tt.space, tt.partitions, p)
		}
		if again := PartitionOf(tt.space, tt.partitions); again != p {
			t.Errorf("PartitionOf(%q, %d) not stable: %d then %d", tt.space, tt.partitions, p, again)
		}
	}
	// The mapping is part of the cluster's on-disk contract: a change would move every
	// space of a running cluster to another stream.
	for _, pin := range []struct {
		space      string
		partitions int
		want       int
	}{{"default", 3, 0}, {"tenant-a", 3, 2}, {"tenant-b", 64, 53}} {
		if got := PartitionOf(pin.space, pin.partitions); got != pin.want {
			t.Errorf("PartitionOf(%q, %d) = %d, want %d", pin.space, pin.partitions, got, pin.want)
		}
	}
	seen := map[int]bool{}
	for i := 0; i < 300; i++ {
		seen[PartitionOf("space-"+string(rune('a'+i%26))+string(rune('a'+i/26)), 3)] = true
	}
	if len(seen) != 3 {
		t.Fatalf("300 spaces fell into %d of 3 partitions", len(seen))
	}
}
