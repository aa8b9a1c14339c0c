//go:build !go1.24

package listener

import "hash"

// Before Go 1.24 the standard library has no SHA-3; sha3_256/sha3_384
// challenges are then refused as unsupported digests.
func sha3Hash(name string) (func() hash.Hash, bool) { return nil, false }
