package pyharness

import (
	"os"
	"strings"
	"testing"
)

func TestMPWirePythonsReplacesDiscovery(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatalf("no default interpreter: %v", err)
	}
	t.Setenv("MPWIRE_PYTHONS", def.Path+string(os.PathListSeparator)+"/nonexistent/python")
	got, err := discover()
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	if len(got) != 1 || got[0].Minor != def.Minor {
		t.Fatalf("discover with MPWIRE_PYTHONS=%s gave %v, want exactly %v", def.Path, got, def)
	}

	t.Setenv("MPWIRE_PYTHONS", "/nonexistent/python")
	if _, err := discover(); err == nil || !strings.Contains(err.Error(), "no CPython") {
		t.Fatalf("discover with only a bad path: err = %v, want a 'no CPython' error", err)
	}
}

func TestProbeRejectsNonPython(t *testing.T) {
	if _, err := probe("/bin/true"); err == nil {
		t.Fatal("probe(/bin/true) succeeded")
	}
}
