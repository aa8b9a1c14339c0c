//go:build !linux

package connection

import (
	"context"
	"fmt"
	"time"

	"github.com/mpwire/mpwire"
)

// threadWaitSupported: Config.ThreadWait is ignored here (the waits of
// threadwait_linux.go use eventfd and ppoll); every Conn uses the runtime
// poller, nopoll is never set, and the methods below are never reached.
const threadWaitSupported = false

type sideWait struct{}

func (*sideWait) wake()     {}
func (*sideWait) shutdown() {}

func unixNano(time.Time) int64 { return 0 }

func (c *Conn) doReadWait(fd uintptr) bool  { return c.doRead(fd) }
func (c *Conn) doWriteWait(fd uintptr) bool { return c.doWrite(fd) }
func (c *Conn) waitReadable(uintptr) error  { return nil }

func (c *Conn) withCtxNopoll(ctx context.Context, write bool, op func() error) error {
	return op()
}

func (c *Conn) pollWaitNopoll(ctx context.Context, until time.Time) (bool, error) {
	return false, fmt.Errorf("connection: ThreadWait needs Linux: %w", mpwire.ErrUnsupported)
}
