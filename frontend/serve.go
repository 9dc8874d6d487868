package frontend

import (
	"log/slog"
	"net"
)

// ServeInBackground runs serve(ln) in a goroutine owned by the frontend: served is closed
// when serve returns, so the frontend's Stop can wait for it. An error that ends serving is
// logged as "<name> listener stopped".
func ServeInBackground(log *slog.Logger, name string, ln net.Listener, serve func(net.Listener) error, served chan<- struct{}) {
	go func() {
		defer close(served)
		if err := serve(ln); err != nil {
			log.Error(name+" listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
}
