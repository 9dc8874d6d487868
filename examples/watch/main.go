// Command watch is an example program of the Go client: it subscribes to a space's
// memory events, remembers a few related memories, recalls with spreading activation and
// prints what the stream saw.
//
//	go run ./examples/watch -addr 127.0.0.1:7432 -space example
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/engram-go/engram/client"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7432", "Engram HTTP address")
	space := flag.String("space", "example", "memory space")
	key := flag.String("api-key", os.Getenv("ENGRAM_API_KEY"), "API key, when the server has auth on")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, *addr, *space, *key, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "watch:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, space, key string, out io.Writer) error {
	c, err := client.New(addr, client.WithSpace(space), client.WithAPIKey(key))
	if err != nil {
		return err
	}
	// Watch first, so that the stream sees the writes below.
	sub, err := c.Subscribe(ctx, client.StreamMemories, client.StreamOptions{EventTypes: []string{"formation"}})
	if err != nil {
		return err
	}
	defer sub.Close()

	facts := []client.RememberRequest{
		{ID: "coffee", Content: "Ana drinks coffee every morning", Tags: []string{"ana"}},
		{ID: "cafe", Content: "Ana drinks coffee at the corner cafe on Main Street", Tags: []string{"ana"}},
		{ID: "street", Content: "the corner cafe on Main Street opens at seven", Tags: []string{"city"}},
	}
	for _, f := range facts {
		f.AutoLink = true // wait for the association edges, so recall can spread over them
		r, err := c.Remember(ctx, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "remembered %s (%d links)\n", r.MemoryID, len(r.AutoLinks))
	}

	// A low threshold lets memories reached only over association edges through.
	threshold := float32(0.05)
	rec, err := c.Recall(ctx, client.RecallRequest{Query: "Ana drinks coffee", Mode: client.ModeSpreading, MaxResults: 5, Threshold: &threshold})
	if err != nil {
		return err
	}
	for _, m := range rec.All() {
		fmt.Fprintf(out, "recalled %s via %s\n", m.ID, m.RetrievalPath)
	}

	for seen := 0; seen < len(facts); {
		msg, err := sub.Next()
		if err != nil {
			return err
		}
		if msg.Event != nil {
			fmt.Fprintf(out, "event %s %s\n", msg.Event.Type, msg.Event.MemoryID)
			seen++
		}
	}
	return nil
}
