package engine

import "github.com/engram-go/engram/engine/tier"

// Tiering and checkpoints (docs/tiers.md).
const (
	// checkpointBytes: a checkpoint runs once the WAL holds this much since the last one
	// (or the hot snapshot's size, if larger: checkpointTrigger), so recovery replays at
	// most about this much.
	checkpointBytes = 64 << 20
	// checkpointOnCloseBytes: closing a space checkpoints it when its WAL holds more.
	checkpointOnCloseBytes = 1 << 20
	// hotTargetFill: demotion brings the hot tier down to this fraction of its capacity.
	hotTargetFill = 0.9
	// hotHardLimit: past this multiple of hot_capacity, remembers wait (503) for the
	// checkpoint to demote.
	hotHardLimit = 2
)

// segment is an open warm or cold segment of the space.
type segment struct {
	name    string // relative to the space folder
	kind    tier.Kind
	s       *tier.Segment
	rows    []uint32     // segment index → row; valid for live entries
	deleted *tier.Bitmap // entries forgotten or replaced since the segment was written
	live    int
}

func (st *state) closeSegments() {
	for _, sg := range st.segs {
		_ = sg.s.Close()
	}
	st.segs = nil
}

// tierNames lists the tiers a recall searched.
func (st *state) tierNames() []string {
	out := []string{"hot"}
	var warm, cold bool
	for _, sg := range st.segs {
		warm = warm || sg.kind == tier.KindWarm
		cold = cold || sg.kind == tier.KindCold
	}
	if warm {
		out = append(out, "warm")
	}
	if cold {
		out = append(out, "cold")
	}
	return out
}

func cloneBitmap(b *tier.Bitmap) *tier.Bitmap {
	c := tier.NewBitmap(b.Len())
	for i := 0; i < b.Len(); i++ {
		if b.Has(i) {
			c.Set(i)
		}
	}
	return c
}
