package record

import "encoding/binary"

// Link is one association edge as stored in the WAL, by memory id so that it does not
// depend on in-memory row numbers.
type Link struct {
	Target string
	Weight float32
	Kind   uint8 // graph.Kind: 1 similarity, 2 temporal, 3 consolidation
}

// AppendLinks appends the links payload of the edges computed for source; version is the
// source's stored_at in Unix nanoseconds, so edges computed for a replaced memory are not
// attached to its successor.
func AppendLinks(b []byte, source string, version int64, links []Link) []byte {
	b = append(b, payloadVersion)
	b = appendString(b, source)
	b = binary.AppendVarint(b, version)
	b = appendUvarint(b, uint64(len(links)))
	for _, l := range links {
		b = appendString(b, l.Target)
		b = appendF32(b, l.Weight)
		b = append(b, l.Kind)
	}
	return b
}

// DecodeLinks reads a links payload.
func DecodeLinks(p []byte) (source string, version int64, links []Link, err error) {
	d := decoder{b: p}
	d.version()
	source = d.str("source")
	version = d.varint("source version")
	n := d.uvarint("link count")
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("links")
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		var l Link
		l.Target = d.str("target")
		l.Weight = d.f32("weight")
		l.Kind = d.byte1("kind")
		links = append(links, l)
	}
	return source, version, links, d.err
}
