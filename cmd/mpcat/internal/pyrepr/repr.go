// Package pyrepr is how mpcat prints decoded pickle values: Python's
// repr() as the pickle package writes it (pickle.ReprOptions, the one
// implementation of Python's repr rules in this module), with instances,
// classes and functions, which Python would print with an address, in a
// readable constructor-like form; and as JSON.
package pyrepr

import (
	"github.com/mpwire/mpwire/pickle"
)

// MaxLen bounds the length of one Repr, in bytes. A pickle can share one
// list many times over (a = [x, x]; b = [a, a]; ...), so a small frame can
// have an exponentially long repr; past MaxLen the output ends with
// Truncated.
const MaxLen = 4 << 20

// Truncated ends a repr cut at MaxLen.
const Truncated = pickle.ReprTruncated

// MaxIntDigits is CPython's default limit on int to decimal string
// conversion (sys.get_int_max_str_digits()).
const MaxIntDigits = pickle.DefaultMaxLongDigits

var opts = pickle.ReprOptions{MaxLen: MaxLen, Detailed: true}

// Repr returns Python's repr() of a generic decoded value (at most about
// MaxLen bytes; see Truncated).
func Repr(v any) string { return opts.Repr(v) }

func reprN(v any, limit int) string {
	return pickle.ReprOptions{MaxLen: limit, Detailed: true}.Repr(v)
}

// String returns repr of a Python str held in a Go string (surrogates in
// 'surrogatepass' form are printed as \udXXX, like Python).
func String(s string) string { return opts.Repr(s) }

// Bytes returns repr of a Python bytes object.
func Bytes(p []byte) string { return opts.Repr(p) }
