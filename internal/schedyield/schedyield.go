// Package schedyield holds one runtime workaround that more than one mpwire
// package needs: a goroutine that only blocks in system calls (a pool
// worker between tasks, a manager server connection waiting in ppoll(2))
// never passes through the scheduler, and the runtime's sysmon treats a
// goroutine that ran 10ms on one scheduling tick as long-running: it takes
// the P away while the goroutine is in a system call and then polls every
// 20µs for the next millisecond, thousands of extra thread wake-ups a
// second on a busy process.
package schedyield

import (
	"runtime"
	"time"
)

// Every passes its goroutine through the scheduler at most every few
// milliseconds. The zero value is ready; it is not safe for concurrent
// use (one per goroutine).
type Every struct{ last time.Time }

// Maybe calls runtime.Gosched if more than 5ms have passed since it last
// did.
func (e *Every) Maybe() {
	if now := time.Now(); now.Sub(e.last) > 5*time.Millisecond {
		e.last = now
		runtime.Gosched()
	}
}
