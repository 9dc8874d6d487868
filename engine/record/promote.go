package record

import "encoding/binary"

// AppendPromote appends the promote payload for memory id to b; version is the memory's
// stored_at in Unix nanoseconds, so replay does not promote a memory that replaced it.
func AppendPromote(b []byte, id string, version int64) []byte {
	b = append(b, payloadVersion)
	b = appendString(b, id)
	return binary.AppendVarint(b, version)
}

// DecodePromote reads a promote payload.
func DecodePromote(p []byte) (id string, version int64, err error) {
	d := decoder{b: p}
	d.version()
	id = d.str("id")
	version = d.varint("version")
	return id, version, d.err
}
