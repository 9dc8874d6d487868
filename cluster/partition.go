package cluster

import "github.com/cespare/xxhash/v2"

// PartitionOf is the partition stream a space belongs to: xxhash64 of its id modulo the
// cluster's partition count. Every node computes it the same way, and it never changes while
// the count is fixed (the count is stored once, when the cluster is created).
func PartitionOf(space string, partitions int) int {
	if partitions <= 1 {
		return 0
	}
	return int(xxhash.Sum64String(space) % uint64(partitions))
}
