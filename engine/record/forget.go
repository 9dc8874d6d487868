package record

// AppendForget appends the forget payload (a tombstone) for id to b.
func AppendForget(b []byte, id string) []byte {
	b = append(b, payloadVersion)
	return appendString(b, id)
}

// DecodeForget reads a forget payload.
func DecodeForget(p []byte) (id string, err error) {
	d := decoder{b: p}
	d.version()
	id = d.str("id")
	return id, d.err
}
