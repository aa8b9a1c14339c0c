package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/sysfd"
)

const pingSize = 32

// handOver returns a blocking *os.File for c (for a Python child) and
// closes c.
func handOver(c *connection.Conn) (*os.File, error) {
	f, err := c.File()
	c.Close()
	return f, err
}

// startEcho hands one end of a fresh duplex Pipe to conn_echo.py in mode
// and returns the other end and the process.
func (r *runner) startEcho(mode string) (*connection.Conn, *pyharness.Proc, error) {
	a, b, err := connection.Pipe(true)
	if err != nil {
		return nil, nil, err
	}
	f, err := handOver(b)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	defer f.Close()
	p, err := pyharness.Start(r.ctx, pyharness.Cmd{Python: r.cfg.Python, Script: "conn_echo.py", TempDir: r.tmp,
		Args: []string{"--rfd", "3", "--wfd", "3", "--mode", mode}, ExtraFiles: []*os.File{f}, Env: []string{"MPWIRE_WATCHDOG=900"}})
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, p, nil
}

// stopEcho closes the Go end (the echo sees EOF and exits) and waits.
func stopEcho(c *connection.Conn, p *pyharness.Proc) error {
	c.Close()
	return p.Wait()
}

// rawPair is a blocking AF_UNIX socketpair driven by plain read/write
// system calls: the floor under any framing library.
func rawPair() (int, int, error) {
	fds, err := sysfd.Socketpair()
	if err != nil {
		return 0, 0, err
	}
	return fds[0], fds[1], nil
}

// rawNetPair is the same socketpair as net.Conns: Go's netpoller, no
// framing library — the floor for Go code.
func rawNetPair() (net.Conn, net.Conn, error) {
	a, b, err := rawPair()
	if err != nil {
		return nil, nil, err
	}
	fa, fb := os.NewFile(uintptr(a), "rawA"), os.NewFile(uintptr(b), "rawB")
	defer fa.Close()
	defer fb.Close()
	ca, err := net.FileConn(fa)
	if err != nil {
		return nil, nil, err
	}
	cb, err := net.FileConn(fb)
	if err != nil {
		ca.Close()
		return nil, nil, err
	}
	return ca, cb, nil
}

func readFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("EOF")
		}
		b = b[n:]
	}
	return nil
}

func writeFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func runConn(r *runner) error {
	// Go↔Go over connection.Pipe(true).
	a, b, err := connection.Pipe(true)
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := b.RecvBytesInto(context.Background(), buf)
			if err != nil || b.SendBytes(context.Background(), buf[:n]) != nil {
				return
			}
		}
	}()
	msg, buf := make([]byte, pingSize), make([]byte, 64)
	ns, err := r.measure(func(n int) error {
		for i := 0; i < n; i++ {
			if err := a.SendBytes(context.Background(), msg); err != nil {
				return err
			}
			if _, err := a.RecvBytesInto(context.Background(), buf); err != nil {
				return err
			}
		}
		return nil
	})
	a.Close()
	b.Close()
	if err != nil {
		return err
	}
	r.add("conn/gogo", ns)

	// Raw socketpair: the same 4-byte header + 32 bytes, one write each way.
	fa, fb, err := rawPair()
	if err != nil {
		return err
	}
	frame := append(connection.AppendHeader(nil, pingSize), msg...)
	echoDone := make(chan struct{})
	go func() {
		defer close(echoDone)
		m := make([]byte, len(frame))
		for readFull(fb, m) == nil && writeFull(fb, m) == nil {
		}
	}()
	in := make([]byte, len(frame))
	ns, err = r.measure(func(n int) error {
		for i := 0; i < n; i++ {
			if err := writeFull(fa, frame); err != nil {
				return err
			}
			if err := readFull(fa, in); err != nil {
				return err
			}
		}
		return nil
	})
	// Stop the echo before closing its fd, so that it cannot read from a
	// later socket that reuses the number.
	unix.Shutdown(fa, unix.SHUT_RDWR)
	<-echoDone
	unix.Close(fa)
	unix.Close(fb)
	if err != nil {
		return err
	}
	r.add("conn/raw", ns)

	// The same over net.Conn (netpoller).
	na, nb, err := rawNetPair()
	if err != nil {
		return err
	}
	go func() {
		m := make([]byte, len(frame))
		for {
			if _, err := io.ReadFull(nb, m); err != nil {
				return
			}
			if _, err := nb.Write(m); err != nil {
				return
			}
		}
	}()
	ns, err = r.measure(func(n int) error {
		for i := 0; i < n; i++ {
			if _, err := na.Write(frame); err != nil {
				return err
			}
			if _, err := io.ReadFull(na, in); err != nil {
				return err
			}
		}
		return nil
	})
	na.Close()
	nb.Close()
	if err != nil {
		return err
	}
	r.add("conn/rawnet", ns)

	// Go drives, Python echoes.
	c, p, err := r.startEcho("bytes")
	if err != nil {
		return err
	}
	for i := 0; i < 100 && !r.cfg.Short; i++ {
		if err := c.SendBytes(context.Background(), msg); err != nil {
			return err
		}
		if _, err := c.RecvBytesInto(context.Background(), buf); err != nil {
			return err
		}
	}
	ns, err = r.measure(func(n int) error {
		for i := 0; i < n; i++ {
			if err := c.SendBytes(context.Background(), msg); err != nil {
				return err
			}
			if _, err := c.RecvBytesInto(context.Background(), buf); err != nil {
				return err
			}
		}
		return nil
	})
	if werr := stopEcho(c, p); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	r.add("conn/gopy", ns)

	// Python drives, Python echoes.
	count := r.pick(10000, 1)
	c, p, err = r.startEcho("bytes")
	if err != nil {
		return err
	}
	f, err := handOver(c)
	if err != nil {
		return err
	}
	out, err := r.runPy(pyharness.Cmd{Python: r.cfg.Python, Script: "conn_pingpong.py", ExtraFiles: []*os.File{f},
		Args: []string{"--fd", "3", "--count", strconv.Itoa(count), "--size", strconv.Itoa(pingSize)}})
	f.Close()
	if werr := p.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	total, err := elapsed(out)
	if err != nil {
		return err
	}
	r.add("conn/pypy", total/float64(count))

	wl := fmt.Sprintf("%d-byte send_bytes round trip", pingSize)
	r.compare(comparison{Case: "Conn ping-pong", Workload: wl, Subject: "Go↔Go Conn", SubjectKey: "conn/gogo",
		Baseline: "raw socketpair, blocking read(2)/write(2)", BaseKey: "conn/raw", Goal: 0.9})
	r.compare(comparison{Case: "Conn ping-pong", Workload: wl, Subject: "Go↔Go Conn", SubjectKey: "conn/gogo",
		Baseline: "raw socketpair as net.Conn (netpoller)", BaseKey: "conn/rawnet", Goal: 0.9})
	r.compare(comparison{Case: "Conn ping-pong", Workload: wl, Subject: "Go↔Go Conn", SubjectKey: "conn/gogo",
		Baseline: "Python↔Python Connection", BaseKey: "conn/pypy"})
	r.compare(comparison{Case: "Conn ping-pong", Workload: wl, Subject: "Go↔Python (Go drives)", SubjectKey: "conn/gopy",
		Baseline: "Python↔Python Connection", BaseKey: "conn/pypy"})
	return nil
}

var bulkSizes = []int{64 << 10, 1 << 20, 16 << 20}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// oneWay times n frames of size from send to recv (both Conns), received
// by a goroutine into a preallocated buffer.
func oneWay(send, recv *connection.Conn, payload, buf []byte, n int) error {
	done := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if _, err := recv.RecvBytesInto(context.Background(), buf); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < n; i++ {
		if err := send.SendBytes(context.Background(), payload); err != nil {
			return err
		}
	}
	return <-done
}

func runBulk(r *runner) error {
	for _, size := range bulkSizes {
		k := "bulk/" + strconv.Itoa(size) + "/"
		payload, buf := make([]byte, size), make([]byte, size)
		// Go SendBytes over a socketpair Conn.
		a, b, err := connection.Pipe(true)
		if err != nil {
			return err
		}
		ns, err := r.measure(func(n int) error { return oneWay(a, b, payload, buf, n) })
		a.Close()
		b.Close()
		if err != nil {
			return err
		}
		r.add(k+"go", ns)

		// Raw unix socket: header and payload with blocking write/read.
		fa, fb, err := rawPair()
		if err != nil {
			return err
		}
		hdr := connection.AppendHeader(nil, size)
		ns, err = r.measure(func(n int) error {
			done := make(chan error, 1)
			go func() {
				h := make([]byte, 4)
				for i := 0; i < n; i++ {
					if err := readFull(fb, h); err != nil {
						done <- err
						return
					}
					m, _, err := connection.ParseHeader(h)
					if err == nil {
						err = readFull(fb, buf[:m])
					}
					if err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for i := 0; i < n; i++ {
				if err := writeFull(fa, hdr); err != nil {
					return err
				}
				if err := writeFull(fa, payload); err != nil {
					return err
				}
			}
			return <-done
		})
		unix.Close(fa)
		unix.Close(fb)
		if err != nil {
			return err
		}
		r.add(k+"raw", ns)

		// The same over net.Conn (netpoller).
		na, nb, err := rawNetPair()
		if err != nil {
			return err
		}
		ns, err = r.measure(func(n int) error {
			done := make(chan error, 1)
			go func() {
				h := make([]byte, 4)
				for i := 0; i < n; i++ {
					if _, err := io.ReadFull(nb, h); err != nil {
						done <- err
						return
					}
					m, _, err := connection.ParseHeader(h)
					if err == nil {
						_, err = io.ReadFull(nb, buf[:m])
					}
					if err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for i := 0; i < n; i++ {
				if _, err := na.Write(hdr); err != nil {
					return err
				}
				if _, err := na.Write(payload); err != nil {
					return err
				}
			}
			return <-done
		})
		na.Close()
		nb.Close()
		if err != nil {
			return err
		}
		r.add(k+"rawnet", ns)

		// Python send_bytes → Python recv_bytes_into.
		count := r.pick(max(8, (256<<20)/size), 1)
		pa, pb, err := connection.Pipe(true)
		if err != nil {
			return err
		}
		fr, err := handOver(pb)
		if err != nil {
			return err
		}
		fs, err := handOver(pa)
		if err != nil {
			return err
		}
		args := []string{"--fd", "3", "--size", strconv.Itoa(size), "--count", strconv.Itoa(count)}
		rp, err := pyharness.Start(r.ctx, pyharness.Cmd{Python: r.cfg.Python, Script: "bench_py.py", TempDir: r.tmp,
			Args: append([]string{"bulk-recv"}, args...), ExtraFiles: []*os.File{fr}, Env: []string{"MPWIRE_WATCHDOG=900"}})
		fr.Close()
		if err != nil {
			fs.Close()
			return err
		}
		if _, err := rp.ReadLine(r.ctx); err != nil {
			fs.Close()
			rp.Kill()
			rp.Wait()
			return err
		}
		out, err := r.runPy(pyharness.Cmd{Python: r.cfg.Python, Script: "bench_py.py",
			Args: append([]string{"bulk-send"}, args...), ExtraFiles: []*os.File{fs}})
		fs.Close()
		if werr := rp.Wait(); err == nil {
			err = werr
		}
		if err != nil {
			return err
		}
		total, err := elapsed(out)
		if err != nil {
			return err
		}
		r.add(k+"py", total/float64(count))

		wl := sizeName(size) + " frames, one way"
		r.compare(comparison{Case: "bulk SendBytes", Workload: wl, Subject: "Go Conn (socketpair)", SubjectKey: k + "go",
			Baseline: "raw unix socket, blocking write(2)/read(2)", BaseKey: k + "raw", Bytes: int64(size), Goal: 0.8})
		r.compare(comparison{Case: "bulk SendBytes", Workload: wl, Subject: "Go Conn (socketpair)", SubjectKey: k + "go",
			Baseline: "raw unix socket as net.Conn (netpoller)", BaseKey: k + "rawnet", Bytes: int64(size), Goal: 0.8})
		r.compare(comparison{Case: "bulk SendBytes", Workload: wl, Subject: "Go Conn (socketpair)", SubjectKey: k + "go",
			Baseline: "Python send_bytes → recv_bytes_into", BaseKey: k + "py", Bytes: int64(size)})
	}

	// One-way pipe (Pipe(false)): F_SETPIPE_SZ 1 MiB vs the default buffer.
	size := 1 << 20
	payload, buf := make([]byte, size), make([]byte, size)
	for _, enlarge := range []bool{false, true} {
		rd, wr, err := connection.Pipe(false)
		if err != nil {
			return err
		}
		key := "bulk/pipe/default"
		if enlarge {
			key = "bulk/pipe/enlarged"
			if _, err := setPipeSize(wr.Fd(), size); err != nil {
				r.note(fmt.Sprintf("bulk: F_SETPIPE_SZ %d failed (%v); the enlarged-pipe row is missing (see /proc/sys/fs/pipe-max-size)", size, err))
				rd.Close()
				wr.Close()
				continue
			}
		}
		ns, err := r.measure(func(n int) error { return oneWay(wr, rd, payload, buf, n) })
		rd.Close()
		wr.Close()
		if err != nil {
			return err
		}
		r.add(key, ns)
	}
	r.compare(comparison{Case: "bulk SendBytes", Workload: "1 MiB frames, one-way pipe", Subject: "Go Conn, pipe F_SETPIPE_SZ 1 MiB",
		SubjectKey: "bulk/pipe/enlarged", Baseline: "Go Conn, default 64 KiB pipe", BaseKey: "bulk/pipe/default", Bytes: int64(size)})
	return nil
}
