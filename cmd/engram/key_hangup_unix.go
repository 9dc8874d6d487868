//go:build unix

package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/engram-go/engram/frontend/apikey"
)

// reloadOnHangup re-reads the keys file whenever the process receives SIGHUP, so an
// operator can make a revocation take effect at once. stop ends it.
func reloadOnHangup(store *apikey.Store, log *slog.Logger) (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, syscall.SIGHUP)
	go func() {
		for {
			select {
			case <-ch:
				if err := store.Reload(); err != nil {
					log.Error("SIGHUP: API keys file does not load; the keys in force stay", "path", store.Path(), "err", err)
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
