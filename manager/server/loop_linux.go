package server

import (
	"encoding/binary"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/schedyield"
	"github.com/mpwire/mpwire/pickle"
)

// The event loop (Config.EventLoops, Linux): connections beyond
// ThreadWaitConns are registered with an epoll instance of the server's
// own, for input only and edge-triggered, and one locked OS thread waits
// in epoll_wait for all of them. When a request arrives, that thread reads
// it, and if it is a call that cannot block (a method of a dict, list,
// set, Namespace, Value, Array or iterator), it makes the call and sends
// the reply itself: per call one recvfrom, one sendto and a share of one
// epoll_wait, and no goroutine wakes up. Anything else — a call that may
// wait (a Queue's get, a Lock's acquire, a Pool), a frame that is not
// complete in one read or larger than loopMaxFrame, a request that does
// not decode, end of stream, a reply the socket cannot take at once — is
// handed, with the bytes read so far, to the connection's own goroutine,
// which serves it the usual way and then gives the connection back.
//
// Ownership: a connection is either the loop's (its goroutine waits on
// lc.hand) or its goroutine's (lc.owned; the loop ignores its events).
// lc.mu is held while the loop reads or writes the socket, and whoever
// takes lc.dead (deregistration, Server.Close) takes it first, so the loop
// never touches a descriptor after it was closed.

const (
	loopSupported = true
	// loopMaxFrame: larger request frames go to the goroutine.
	loopMaxFrame = 64 << 10
	// loopMaxReply: larger replies go to the goroutine (below half a
	// unix socket's default send buffer, so a send is all or nothing).
	loopMaxReply = 32 << 10
	// loopWakeID is the event of the loop's eventfd (Close).
	loopWakeID = 0
)

// evLoop is one event loop: an epoll instance and its thread.
type evLoop struct {
	s     *Server
	epfd  int
	efd   int // eventfd: written at Close
	mu    sync.Mutex
	conns map[uint64]*loopConn
	next  uint64
	shut  bool // close has begun: no more connections
	done  chan struct{}
}

// loopConn is a served connection while it is in an event loop.
type loopConn struct {
	l      *evLoop
	id     uint64
	fd     int
	caller Caller
	r      request

	mu    sync.Mutex
	dead  bool // deregistered or closing: the loop leaves fd alone
	owned bool // handed to its goroutine
	added bool // registered with the epoll instance
	in    []byte
	out   []byte
	hand  chan handoff
}

// handoff is what the loop gives a connection's goroutine.
type handoff struct {
	unread []byte // bytes received for the goroutine to receive again (nil: none)
	v      any    // a decoded request to call (if call)
	call   bool
	reply  []byte // a pickled reply to send (nil: none)
}

// newLoop starts an event loop.
func newLoop(s *Server) (*evLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	setEventID(&ev, loopWakeID)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(efd)
		return nil, err
	}
	l := &evLoop{s: s, epfd: epfd, efd: efd, conns: map[uint64]*loopConn{}, next: loopWakeID + 1, done: make(chan struct{})}
	go l.run()
	return l, nil
}

func setEventID(ev *unix.EpollEvent, id uint64) {
	ev.Fd, ev.Pad = int32(uint32(id)), int32(uint32(id>>32))
}

func eventID(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// run is the loop's thread.
func (l *evLoop) run() {
	defer close(l.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var evs [128]unix.EpollEvent
	var yield schedyield.Every
	for {
		// Only system calls and short calls: without a pass through the
		// scheduler sysmon would take this for a long-running goroutine.
		yield.Maybe()
		n, err := unix.EpollWait(l.epfd, evs[:], -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for i := 0; i < n; i++ {
			id := eventID(&evs[i])
			if id == loopWakeID {
				return
			}
			l.mu.Lock()
			lc := l.conns[id]
			l.mu.Unlock()
			if lc != nil {
				lc.serve(evs[i].Events)
			}
		}
	}
}

// close ends the loop: every connection is marked dead (its goroutine
// sees the server's context end), the thread leaves, the descriptors
// close.
func (l *evLoop) close() {
	l.mu.Lock()
	l.shut = true
	for _, lc := range l.conns {
		lc.mu.Lock()
		lc.dead = true
		lc.mu.Unlock()
	}
	l.mu.Unlock()
	one := [8]byte{1}
	_, _ = unix.Write(l.efd, one[:])
	<-l.done
	unix.Close(l.epfd)
	unix.Close(l.efd)
}

// add registers conn (a ThreadWait Conn: off the runtime poller) with the
// loop; its goroutine then waits in lc.wait.
func (l *evLoop) add(conn *connection.Conn, caller Caller, peer string) *loopConn {
	fd := conn.Fd()
	if fd < 0 {
		return nil
	}
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return nil
	}
	id := l.next
	l.next++
	lc := &loopConn{l: l, id: id, fd: fd, caller: caller, r: request{peer: peer}, hand: make(chan handoff, 1), owned: true}
	l.conns[id] = lc
	l.mu.Unlock()
	return lc
}

// remove takes lc out of the loop for good (its goroutine owns it).
func (lc *loopConn) remove() {
	lc.mu.Lock()
	if !lc.dead && lc.added {
		_ = unix.EpollCtl(lc.l.epfd, unix.EPOLL_CTL_DEL, lc.fd, nil)
	}
	lc.dead = true
	lc.mu.Unlock()
	lc.l.mu.Lock()
	delete(lc.l.conns, lc.id)
	lc.l.mu.Unlock()
}

// arm gives the connection (back) to the loop; false if it is dead.
// Registering, or re-registering, an edge-triggered descriptor reports it
// at once if data is already waiting.
func (lc *loopConn) arm() bool {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.dead {
		return false
	}
	lc.owned = false
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET}
	setEventID(&ev, lc.id)
	op := unix.EPOLL_CTL_MOD
	if !lc.added {
		op = unix.EPOLL_CTL_ADD
	}
	if err := unix.EpollCtl(lc.l.epfd, op, lc.fd, &ev); err != nil {
		lc.owned = true
		return false
	}
	lc.added = true
	return true
}

// give hands the connection to its goroutine (lc.mu held).
func (lc *loopConn) give(h handoff) {
	lc.owned = true
	lc.in = lc.in[:0]
	lc.hand <- h // cap 1, and the goroutine took the last one before arming
}

// giveBytes hands over with everything read so far (lc.mu held).
func (lc *loopConn) giveBytes() {
	var b []byte
	if len(lc.in) > 0 {
		b = append([]byte(nil), lc.in...)
	}
	lc.give(handoff{unread: b})
}

// serve runs on the loop's thread when the socket has news (events): it
// reads what arrived and serves every complete request it can. A read
// that fills less than the buffer took everything there was, and later
// data brings a new event; but the end of the stream may have come with
// the data (one event for both, EPOLLRDHUP): then it reads on until it
// meets it.
func (lc *loopConn) serve(events uint32) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.dead || lc.owned {
		return
	}
	s := lc.l.s
	if s.served.Load() <= s.twMax {
		// Few connections again: its goroutine moves it to ppoll
		// (Config.ThreadWaitConns) and receives this request itself.
		lc.give(handoff{})
		return
	}
	limit := loopMaxFrame
	if mf := s.cfg.Conn.MaxFrame; mf > 0 && mf < int64(limit) {
		limit = int(mf)
	}
	for {
		if cap(lc.in) == 0 {
			lc.in = make([]byte, 0, 4<<10)
		}
		free := lc.in[len(lc.in):cap(lc.in)]
		n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(lc.fd), uintptr(unsafe.Pointer(&free[0])), uintptr(len(free)), unix.MSG_DONTWAIT, 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EAGAIN:
			return // nothing (more) yet: wait for the next event
		case errno != 0 || n == 0:
			// End of stream or an error: the goroutine receives again
			// and meets it the usual way.
			lc.giveBytes()
			return
		}
		lc.in = lc.in[:len(lc.in)+int(n)]
		drained := int(n) < len(free) && events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) == 0
		if len(lc.in) < 4 {
			if drained {
				return
			}
			continue
		}
		size := int64(int32(binary.BigEndian.Uint32(lc.in)))
		if size < 0 || size > int64(limit) {
			lc.giveBytes() // a large header, or over a limit: the usual way
			return
		}
		end := 4 + int(size)
		if len(lc.in) < end {
			if cap(lc.in) < end {
				lc.in = append(make([]byte, 0, end), lc.in...)
			}
			if drained {
				return
			}
			continue
		}
		if len(lc.in) > end || int(n) == len(free) {
			// More than one request at once (a client that does not wait
			// for replies): the goroutine keeps their order.
			lc.giveBytes()
			return
		}
		if !lc.serveOne(lc.in[4:end]) {
			return
		}
		lc.in = lc.in[:0]
		if drained {
			return
		}
		// The end of the stream may follow: read on.
	}
}

// serveOne serves one complete request frame; false if it handed the
// connection to its goroutine.
func (lc *loopConn) serveOne(frame []byte) bool {
	s := lc.l.s
	var v any
	if err := s.dec.Unmarshal(frame, &v); err != nil {
		lc.giveBytes()
		return false
	}
	if !s.inlineCall(v) {
		lc.give(handoff{v: v, call: true})
		return false
	}
	lc.r = request{peer: lc.r.peer}
	b, ok := s.encodeReply(s.call(lc.caller, v, &lc.r), &lc.r, &lc.out, 4)
	if !ok {
		// As sendBuf: nothing can be sent; the goroutine ends the
		// connection when its receive meets the end of stream.
		lc.give(handoff{})
		return false
	}
	payload := b[4:]
	if len(payload) > loopMaxReply {
		lc.give(handoff{reply: append([]byte(nil), payload...)})
		return false
	}
	binary.BigEndian.PutUint32(b, uint32(len(payload)))
	for {
		n, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(lc.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno == 0 && int(n) == len(b):
			return true
		case errno == 0 && n > 0:
			// Not expected below loopMaxReply; the goroutine writes the
			// rest of the frame as raw bytes.
			lc.give(handoff{reply: append([]byte(nil), b[n:]...), v: rawReply})
			return false
		}
		// The socket is full (EAGAIN) or broken: the goroutine sends, and
		// waits, or meets the error, the usual way.
		lc.give(handoff{reply: append([]byte(nil), payload...)})
		return false
	}
}

// rawReply marks a handoff whose reply is the rest of a frame already
// partly sent.
var rawReply = new(int)

// writeRaw writes b to the connection's descriptor (blocking).
func (lc *loopConn) writeRaw(b []byte) bool {
	for len(b) > 0 {
		n, err := unix.SendmsgN(lc.fd, b, nil, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR || err == unix.EAGAIN {
			if err == unix.EAGAIN {
				fds := []unix.PollFd{{Fd: int32(lc.fd), Events: unix.POLLOUT}}
				_, _ = unix.Poll(fds, 100)
				if lc.l.s.ctx.Err() != nil {
					return false
				}
			}
			continue
		}
		if err != nil {
			return false
		}
		b = b[n:]
	}
	return true
}

// inlineCall reports whether v is a call the loop's thread makes itself:
// a method of a ready-made object that never waits and costs little more
// than reading its arguments and pickling its result (a dict's item, a
// list's append, a Value's get). Everything else — a repr, #GETVALUE,
// copy, sort, update, a list's count or index — runs in the connection's
// goroutine, as before the loops, so that a large object's slow call does
// not hold up the other connections of the loop.
func (s *Server) inlineCall(v any) bool {
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) != 4 {
		return false
	}
	ident, ok := t[0].(string)
	if !ok {
		return false
	}
	method, ok := t[1].(string)
	if !ok {
		return false
	}
	s.mu.Lock()
	e, ok := s.objs[ident]
	if !ok {
		e, ok = s.local[ident]
	}
	s.mu.Unlock()
	if !ok || !e.exposed[method] {
		return false
	}
	var cheap map[string]bool
	switch e.obj.(type) {
	case *Dict:
		cheap = inlineDict
	case *List:
		cheap = inlineList
	case *Set:
		cheap = inlineSet
	case *Namespace:
		cheap = inlineNamespace
	case *Value:
		cheap = inlineValue
	case *Array:
		cheap = inlineArray
	case *Iterator:
		cheap = inlineIterator
	}
	return cheap[method]
}

// The methods an event loop calls itself, by type (see inlineCall).
var (
	inlineDict = map[string]bool{"__contains__": true, "__getitem__": true, "__setitem__": true, "__delitem__": true,
		"__len__": true, "get": true, "pop": true, "setdefault": true}
	inlineList = map[string]bool{"__getitem__": true, "__setitem__": true, "__delitem__": true, "__len__": true,
		"append": true, "pop": true, "insert": true}
	inlineSet       = map[string]bool{"__contains__": true, "__len__": true, "add": true, "discard": true, "remove": true}
	inlineNamespace = map[string]bool{"__getattribute__": true, "__setattr__": true, "__delattr__": true}
	inlineValue     = map[string]bool{"get": true, "set": true}
	inlineArray     = map[string]bool{"__getitem__": true, "__setitem__": true, "__len__": true}
	inlineIterator  = map[string]bool{"__next__": true}
)
