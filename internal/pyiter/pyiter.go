// Package pyiter holds one Python rule that more than one mpwire package
// needs: what iterating a decoded pickle value yields (Python's list(v)),
// for the built-in types the pickle package decodes to.
package pyiter

import (
	"github.com/mpwire/mpwire/internal/pystr"
	"github.com/mpwire/mpwire/pickle"
)

// Items returns the items list(v) gives in Python and true, or nil and
// false when v is not one of the iterable built-ins handled here: a list
// or tuple (its items), a str (its characters, lone surrogates included,
// as one-character strings), bytes (ints 0–255), a dict (its keys, in
// order), a set or frozenset (its items). A list or tuple is returned as
// is, not copied.
func Items(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case pickle.Tuple:
		return x, true
	case string:
		out := make([]any, 0, len(x))
		for i := 0; i < len(x); {
			_, n := pystr.NextRune(x, i)
			out = append(out, x[i:i+n])
			i += n
		}
		return out, true
	case []byte:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = int64(c)
		}
		return out, true
	case *pickle.Dict:
		return x.Keys(), true
	case *pickle.Set:
		return x.Items(), true
	case *pickle.FrozenSet:
		return x.Items(), true
	}
	return nil, false
}
