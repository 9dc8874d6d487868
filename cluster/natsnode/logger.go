package natsnode

import (
	"context"
	"fmt"
	"log/slog"
)

// serverLogger passes the embedded server's warnings and errors to the node's logger. Its
// notices (a line per connection, route and Raft election) are routine and dropped.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) emit(level slog.Level, format string, v []any) {
	if l.log == nil || !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "nats")
}

func (l serverLogger) Noticef(string, ...any)         {}
func (l serverLogger) Debugf(string, ...any)          {}
func (l serverLogger) Tracef(string, ...any)          {}
func (l serverLogger) Warnf(format string, v ...any)  { l.emit(slog.LevelWarn, format, v) }
func (l serverLogger) Errorf(format string, v ...any) { l.emit(slog.LevelError, format, v) }
func (l serverLogger) Fatalf(format string, v ...any) { l.emit(slog.LevelError, format, v) }
