package main

import (
	"bytes"
	"testing"
)

func TestSpaceListGolden(t *testing.T) {
	spaces := []spaceInfo{
		{ID: "alpha", Memories: 2, CreatedAt: "2025-11-25T21:16:00.123456Z", PersistenceRoot: "/data/alpha"},
		{ID: "default", Memories: 1200, CreatedAt: "2025-11-24T08:00:00+02:00", PersistenceRoot: "/data/default"},
		{ID: "tenant-with-a-longer-id", Memories: 1234567, CreatedAt: "not a time", PersistenceRoot: "/data/t"},
	}
	var buf bytes.Buffer
	if err := writeSpaceList(&buf, spaces); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "space_list.golden", buf.Bytes())
	checkBoxAligned(t, buf.String())
}

func TestRecallOutputGolden(t *testing.T) {
	var a recallAnswer
	a.Memories.Vivid = []memoryResult{{ID: "mem_1", Content: "The deploy to production failed because the disk was full",
		Confidence: confidenceInfo{0.9, "High"}, SimilarityScore: 0.91}}
	a.Memories.Associated = []memoryResult{{ID: "mem_2", Content: "Disk alerts\nare routed to the on-call channel, which is watched around the clock by the platform team",
		Confidence: confidenceInfo{0.6, "Medium"}, SimilarityScore: 0.42}}
	a.RecallConfidence = confidenceInfo{0.81, "High"}
	var buf bytes.Buffer
	if err := writeRecall(&buf, "deploy failed", "ops", a, false); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "recall.golden", buf.Bytes())
	checkBoxAligned(t, buf.String())

	a.Memories.Vivid[0].ActivationLevel, a.Memories.Vivid[0].RetrievalPath = 0.91, "direct"
	a.Memories.Associated[0].ActivationLevel, a.Memories.Associated[0].RetrievalPath = 0.28, "spreading: mem_1 -> mem_3 -> mem_2"
	buf.Reset()
	if err := writeRecall(&buf, "deploy failed", "ops", a, true); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "recall_trace.golden", buf.Bytes())
	checkBoxAligned(t, buf.String())

	buf.Reset()
	if err := writeRecall(&buf, "nothing", "ops", recallAnswer{}, false); err != nil {
		t.Fatal(err)
	}
	if want := "No memories recalled for \"nothing\" in space 'ops'\n"; buf.String() != want {
		t.Fatalf("empty recall printed %q, want %q", buf.String(), want)
	}
}
