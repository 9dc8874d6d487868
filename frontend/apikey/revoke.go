package apikey

import (
	"fmt"
	"time"
)

// Revoke marks the key with id as revoked in the keys file at path. The entry stays, so
// the id keeps naming the same key. Revoking a revoked key changes nothing and reports
// changed = false.
func Revoke(path, id string, now time.Time) (e Entry, changed bool, err error) {
	err = Update(path, func(f *File) error {
		found := f.find(id)
		if found == nil {
			return fmt.Errorf("%w: %q (see `engram key list`)", ErrNotFound, id)
		}
		if !found.Revoked {
			at := now.UTC().Truncate(time.Second)
			found.Revoked, found.RevokedAt, changed = true, &at, true
		}
		e = *found
		return nil
	})
	if err != nil {
		return Entry{}, false, err
	}
	return e, changed, nil
}
