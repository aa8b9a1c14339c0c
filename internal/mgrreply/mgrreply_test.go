package mgrreply_test

import (
	"testing"

	"github.com/mpwire/mpwire/internal/mgrreply"
)

func TestIsKind(t *testing.T) {
	for _, k := range []string{"#RETURN", "#ERROR", "#TRACEBACK", "#UNSERIALIZABLE", "#PROXY"} {
		if !mgrreply.IsKind(k) {
			t.Errorf("IsKind(%q) = false", k)
		}
	}
	// Server-side fallbacks and near misses are method names, not kinds.
	for _, k := range []string{"", "#GETVALUE", "RETURN", "#return", "#RETURN ", "__repr__"} {
		if mgrreply.IsKind(k) {
			t.Errorf("IsKind(%q) = true", k)
		}
	}
}
