package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in the file as a Go duration string ("60s",
// "1h30m"). A bare number is refused rather than read as nanoseconds, which is never
// what someone writing `interval = 60` meant.
type Duration time.Duration

// UnmarshalText parses a duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("want a duration string with a unit such as \"60s\" or \"1h\", got %s", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration the way it is read.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
