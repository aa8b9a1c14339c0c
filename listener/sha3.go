//go:build go1.24

package listener

import (
	"crypto/sha3"
	"hash"
)

func sha3Hash(name string) (func() hash.Hash, bool) {
	switch name {
	case "sha3_256":
		return func() hash.Hash { return sha3.New256() }, true
	case "sha3_384":
		return func() hash.Hash { return sha3.New384() }, true
	}
	return nil, false
}
