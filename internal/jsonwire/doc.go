// Package jsonwire holds the JSON primitives of the wire formats: appending JSON values
// by hand (the hot answers and the transfer format are written without reflection),
// parsing client JSON with fastjson after refusing the escapes it would decode loosely,
// reading a memory object with its embedding read ahead (internal/vecjson), and typed
// field readers whose errors name the field.
//
// Invariants: AppendFloat32 writes the shortest text that parses back to the same
// float32 and AppendTime RFC 3339 with nanoseconds, so a value written and read back is
// unchanged; every reader error is a *FieldError matching engine.ErrInvalidInput.
package jsonwire
