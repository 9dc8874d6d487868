package apikey

import "errors"

// Sentinel errors; errors returned by the package wrap them, test with errors.Is.
var (
	// ErrInvalidFile marks a keys file that does not parse or breaks a rule (duplicate
	// id, bad hash, bad space id).
	ErrInvalidFile = errors.New("apikey: invalid keys file")
	// ErrInvalidEntry rejects a key to be created with an unusable name or scope.
	ErrInvalidEntry = errors.New("apikey: invalid key entry")
	// ErrNotFound says no key has the given id.
	ErrNotFound = errors.New("apikey: no key with this id")
)
