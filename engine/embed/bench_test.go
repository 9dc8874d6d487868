package embed

import "testing"

// BenchmarkHashEmbed embeds a 200-byte memory into 768 dimensions, the default.
func BenchmarkHashEmbed(b *testing.B) {
	const text = "Met Alice at the Lisbon conference on Thursday; she explained how her team " +
		"moved the billing service to event sourcing and why replaying three years of " +
		"invoices took only forty minutes on a lone node."
	if len(text) != 200 {
		b.Fatalf("text is %d bytes, want 200", len(text))
	}
	h := NewHash(768)
	out := make([]float32, h.Dim())
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		h.Embed(text, out)
	}
}
