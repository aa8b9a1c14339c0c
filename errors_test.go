package mpwire_test

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/mpwire/mpwire"
)

func TestErrClosedMatchesNetErrClosed(t *testing.T) {
	err := fmt.Errorf("queue: get: %w", mpwire.ErrClosed)
	if !errors.Is(err, mpwire.ErrClosed) {
		t.Error("wrapped ErrClosed does not match ErrClosed")
	}
	if !errors.Is(err, net.ErrClosed) {
		t.Error("wrapped ErrClosed does not match net.ErrClosed")
	}
	if errors.Is(net.ErrClosed, mpwire.ErrClosed) {
		t.Error("net.ErrClosed matches ErrClosed: only the other direction is meant to hold")
	}
}

func TestSentinelsAreDistinct(t *testing.T) {
	all := []error{mpwire.ErrEmpty, mpwire.ErrFull, mpwire.ErrClosed, mpwire.ErrBadState, mpwire.ErrProtocol, mpwire.ErrUnsupported}
	for i, a := range all {
		for j, b := range all {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = %v", a, b, i != j)
			}
		}
	}
}
