package record

import "time"

// Access is one memory's reinforcement: its access count and last access time.
type Access struct {
	ID    string
	Count uint32
	Last  time.Time
}

// AppendAccess appends the access payload of a batch of reinforcements to b.
func AppendAccess(b []byte, as []Access) []byte {
	b = append(b, payloadVersion)
	b = appendUvarint(b, uint64(len(as)))
	for _, a := range as {
		b = appendString(b, a.ID)
		b = appendUvarint(b, uint64(a.Count))
		b = appendTime(b, a.Last)
	}
	return b
}

// DecodeAccess reads an access payload.
func DecodeAccess(p []byte) ([]Access, error) {
	d := decoder{b: p}
	d.version()
	n := d.uvarint("access count")
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("accesses")
	}
	var out []Access
	for i := uint64(0); i < n && d.err == nil; i++ {
		var a Access
		a.ID = d.str("id")
		a.Count = uint32(d.uvarint("count"))
		a.Last = d.time("last")
		out = append(out, a)
	}
	return out, d.err
}
