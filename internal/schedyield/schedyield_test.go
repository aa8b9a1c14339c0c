package schedyield

import (
	"testing"
	"time"
)

func TestEveryYieldsAtMostEvery5ms(t *testing.T) {
	var e Every
	e.Maybe()
	first := e.last
	if first.IsZero() {
		t.Fatal("the first Maybe did not yield")
	}
	e.Maybe()
	if e.last != first {
		t.Error("a second Maybe at once yielded again")
	}
	e.last = time.Now().Add(-6 * time.Millisecond)
	stale := e.last
	e.Maybe()
	if e.last == stale {
		t.Error("Maybe 6ms after the last yield did not yield")
	}
}
