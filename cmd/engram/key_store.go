package main

import (
	"fmt"
	"log/slog"

	"github.com/engram-go/engram/cmd/engram/config"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/apikey"
)

// authenticator returns what checks API keys for the frontends: nil when [security]
// auth = "none", the key store of [security] keys_file when auth = "api_key". stop ends
// the SIGHUP reload; call it when the server stops.
func (a *app) authenticator(cfg config.Config, log *slog.Logger) (auth frontend.Authenticator, stop func(), err error) {
	if cfg.Security.Auth != "api_key" {
		return nil, func() {}, nil
	}
	store, err := apikey.Open(cfg.Security.KeysFile, apikey.Options{Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("[security] auth = \"api_key\": %w", err)
	}
	return store, reloadOnHangup(store, log), nil
}
