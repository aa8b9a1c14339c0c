// Package mgrreply names the reply kinds of the manager protocol
// (docs/spec.md, section Manager, Replies): a server answers every request
// with the 2-tuple (kind, payload). manager/internal/wire gives them to the
// client and the Go server; mpcat uses them to recognize replies in the
// traffic it shows.
package mgrreply

// The reply kinds.
const (
	Return         = "#RETURN"         // payload: the result
	Error          = "#ERROR"          // payload: the exception the method raised
	Traceback      = "#TRACEBACK"      // payload: a server-side traceback (str)
	Unserializable = "#UNSERIALIZABLE" // payload: why the result could not be pickled (str)
	Proxy          = "#PROXY"          // payload: (exposed, Token) of a new shared object
)

// IsKind reports whether s is a reply kind.
func IsKind(s string) bool {
	switch s {
	case Return, Error, Traceback, Unserializable, Proxy:
		return true
	}
	return false
}
