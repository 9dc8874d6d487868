//go:build !unix

package main

import (
	"log/slog"

	"github.com/engram-go/engram/frontend/apikey"
)

// reloadOnHangup does nothing where SIGHUP does not exist; the store still looks at its
// file every few seconds.
func reloadOnHangup(*apikey.Store, *slog.Logger) (stop func()) { return func() {} }
