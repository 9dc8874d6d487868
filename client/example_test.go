package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/internal/testserver"
)

// engramAddr is the address of a server for the examples: an in-process one, started on
// first use. A program passes its own, e.g. "127.0.0.1:7432".
var engramAddr = sync.OnceValue(func() string {
	srv, err := testserver.Start()
	if err != nil {
		log.Fatal(err)
	}
	return srv.Addr
})

func Example() {
	ctx := context.Background()
	c, err := client.New(engramAddr(), client.WithSpace("notes"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Remember(ctx, client.RememberRequest{ID: "tea", Content: "Lin prefers green tea"}); err != nil {
		log.Fatal(err)
	}
	rec, err := c.Recall(ctx, client.RecallRequest{Query: "Lin green tea"})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range rec.All() {
		fmt.Println(m.ID, m.Content)
	}
	// Output: tea Lin prefers green tea
}

func ExampleClient_Space() {
	ctx := context.Background()
	c, _ := client.New(engramAddr(), client.WithSpace("tenant-a"))
	if _, err := c.Remember(ctx, client.RememberRequest{ID: "a1", Content: "only tenant a sees this"}); err != nil {
		log.Fatal(err)
	}
	// The same client, another space: it sees nothing of tenant-a.
	_, err := c.Space("tenant-b").Get(ctx, "a1")
	fmt.Println(errors.Is(err, client.ErrNotFound))
	// Output: true
}

func ExampleClient_RememberAll() {
	ctx := context.Background()
	c, _ := client.New(engramAddr(), client.WithSpace("bulk-example"))
	items := make([]client.RememberRequest, 2500)
	for i := range items {
		items[i] = client.RememberRequest{Content: fmt.Sprintf("reading %d", i)}
	}
	res, err := c.RememberAll(ctx, items, client.BatchAllOptions{MaxItems: 1000})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Accepted, "stored in", res.Batches, "batches")
	// Output: 2500 stored in 3 batches
}

func ExampleClient_Subscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := client.New(engramAddr(), client.WithSpace("watched"))
	sub, err := c.Subscribe(ctx, client.StreamMemories, client.StreamOptions{EventTypes: []string{"formation"}})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	if _, err := c.Remember(ctx, client.RememberRequest{ID: "seen", Content: "a new memory"}); err != nil {
		log.Fatal(err)
	}
	msg, err := sub.Next() // reconnects with Last-Event-ID if the connection drops
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.Event.Type, msg.Event.MemoryID)
	// Output: formation seen
}

func ExampleError() {
	ctx := context.Background()
	c, _ := client.New(engramAddr())
	_, err := c.Remember(ctx, client.RememberRequest{Content: "x", Confidence: new(float32(1.5))})
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code, errors.Is(err, client.ErrInvalidInput))
	}
	// Output: 400 INVALID_MEMORY_INPUT true
}

func ExampleClient_Complete() {
	ctx := context.Background()
	c, _ := client.New(engramAddr(), client.WithSpace("diary"))
	when := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	if _, err := c.RememberEpisode(ctx, client.EpisodeRequest{ID: "e1", What: "sailing lesson at the harbour", When: when, WhereLocation: "Old Harbour"}); err != nil {
		log.Fatal(err)
	}
	// Where was the sailing lesson? The answer names the memory it comes from.
	res, err := c.Complete(ctx, client.CompleteRequest{KnownFields: map[string]string{"what": "sailing lesson"}, MissingFields: []string{"where_location"}})
	if err != nil {
		log.Fatal(err)
	}
	f := res.Fields[0]
	fmt.Println(f.Field, "=", f.Value, "from", f.Source, f.SourceMemories)
	// Nothing stored supports an answer: a 422, not an invented one.
	_, err = c.Complete(ctx, client.CompleteRequest{KnownFields: map[string]string{"what": "quantum chromodynamics"}, MissingFields: []string{"where_location"}})
	fmt.Println(errors.Is(err, client.ErrValidation))
	// Output:
	// where_location = Old Harbour from recalled [e1]
	// true
}

func ExampleClient_Associate() {
	ctx := context.Background()
	c, _ := client.New(engramAddr(), client.WithSpace("links"))
	for id, s := range map[string]string{"rain": "it rained all night", "roof": "the roof leaks"} {
		if _, err := c.Remember(ctx, client.RememberRequest{ID: id, Content: s}); err != nil {
			log.Fatal(err)
		}
	}
	a, err := c.Associate(ctx, client.AssociateRequest{SourceMemory: "rain", TargetMemory: "roof", Strength: new(float32(0.6)), AssociationType: "causal"})
	if err != nil {
		log.Fatal(err)
	}
	// The background linker may have linked the two memories already; the association then
	// strengthens that edge (Created is false) to prev + 0.6 × (1 − prev), never below 0.6.
	fmt.Println(a.FinalStrength >= 0.6, a.AffectedPaths)
	// Output: true [rain -> roof]
}
