// Package apikey is the API key store behind `[security] auth = "api_key"`: a JSON keys
// file of hashed, space-scoped keys, the frontend.Authenticator the HTTP and gRPC
// frontends consult, and the offline operations `engram key create|list|revoke` perform
// on the file.
//
// Invariants:
//
//   - A key is 32 bytes from crypto/rand, shown once as "engram_" followed by their
//     unpadded base64url form. Only the SHA-256 digest of the whole key string is ever
//     written; the key itself exists only in the caller's hands.
//   - Authenticate compares the digest of the presented key against every stored digest
//     with crypto/subtle, without stopping at a match, so its timing does not depend on
//     which stored key (if any) matches.
//   - The keys file is replaced atomically (temporary file, fsync, rename, fsync of the
//     folder) with mode 0600, so a reader sees the old file or the new one, never a mix.
//     Writers serialise on an flock of "<file>.lock", so two concurrent `engram key`
//     commands never lose each other's change.
//   - A Store serves from an immutable snapshot swapped atomically. It looks at the file
//     (modification time, size, identity) at most once per ReloadInterval, on the
//     request path, and Reload re-reads it at once (the server calls it on SIGHUP). A
//     file that fails to parse on reload leaves the previous snapshot in force and is
//     logged; a file that was removed means no key is valid (fail closed).
//   - A revoked key stays in the file (so its id keeps meaning the same key) and never
//     authenticates again.
package apikey
