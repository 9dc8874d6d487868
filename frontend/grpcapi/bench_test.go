package grpcapi

import (
	"context"
	"fmt"
	"testing"
)

// The remember benchmarks store b.N memories of the test dimension into one space with the
// default WAL sync mode ("always": an acknowledged memory is on disk) and report records/s.

func BenchmarkUnaryRemember(b *testing.B) {
	h := newHarness(b, harnessConfig{})
	ctx := withSpace(context.Background(), "bench")
	req := memoryReq("", "", "", axisVector(1, 0.5))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.GetMemory().Content = fmt.Sprintf("unary benchmark memory %d", i)
		if _, err := h.client.Remember(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkUnaryRememberParallel(b *testing.B) {
	h := newHarness(b, harnessConfig{})
	ctx := withSpace(context.Background(), "bench")
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(p *testing.PB) {
		req := memoryReq("", "", "", axisVector(1, 0.5))
		i := 0
		for p.Next() {
			i++
			req.GetMemory().Content = fmt.Sprintf("parallel unary benchmark memory %d", i)
			if _, err := h.client.Remember(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkStreamingRemember(b *testing.B) {
	h := newHarness(b, harnessConfig{})
	ctx := withSpace(context.Background(), "bench")
	b.ResetTimer()
	stream, err := h.client.StreamingRemember(ctx)
	if err != nil {
		b.Fatal(err)
	}
	sendErr := make(chan error, 1)
	go func() {
		req := memoryReq("", "", "", axisVector(1, 0.5))
		for i := 0; i < b.N; i++ {
			req.GetMemory().Content = fmt.Sprintf("streaming benchmark memory %d", i)
			if err := stream.Send(req); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- stream.CloseSend()
	}()
	for i := 0; i < b.N; i++ {
		resp, err := stream.Recv()
		if err != nil {
			b.Fatal(err)
		}
		if resp.GetError() != nil {
			b.Fatal(resp.GetError())
		}
	}
	if err := <-sendErr; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
