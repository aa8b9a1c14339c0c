package process_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/internal/testworker"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// TestMain doubles as the Go worker of the interop tests: started by a
// spawn parent (mpwire.GoProcess in Python, or process.Start with
// Spec.Executable), the test binary plays the role the parent names in
// kwargs["role"] instead of running the tests.
func TestMain(m *testing.M) {
	testworker.Main(m, testworker.Roles{
		"echo":  func(_ context.Context, child *process.ChildProcess) error { return roleEcho(child) },
		"kinds": func(_ context.Context, child *process.ChildProcess) error { return roleKinds(child) },
		"exit": func(_ context.Context, child *process.ChildProcess) error {
			var code int
			if err := child.UnmarshalKwarg("code", &code); err != nil {
				return err
			}
			return process.SystemExit(code)
		},
		"panic": func(context.Context, *process.ChildProcess) error { panic("panicking on purpose") },
		"error": func(context.Context, *process.ChildProcess) error { return errors.New("failing on purpose") },
		"sleep": roleSleep,
		"digest": func(ctx context.Context, child *process.ChildProcess) error {
			conn, err := child.Conn(0)
			if err != nil {
				return err
			}
			blob, ok := child.Arg(1).([]byte)
			if !ok {
				return fmt.Errorf("argument 1 is %T, want bytes", child.Arg(1))
			}
			sum := sha256.Sum256(blob)
			return conn.Send(ctx, map[string]any{"len": len(blob), "sha256": hex.EncodeToString(sum[:])})
		},
		"register": roleRegister,
		"watch":    roleWatch,
		"leak":     roleLeak,
	})
}

// roleSleep says "ready", then waits for the end of its context.
func roleSleep(ctx context.Context, child *process.ChildProcess) error {
	conn, err := child.Conn(0)
	if err != nil {
		return err
	}
	if err := conn.Send(ctx, "ready"); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-time.After(60 * time.Second):
	}
	return nil
}

// roleRegister creates a stand-in for a named semaphore this worker
// created: the parent's tracker must sem_unlink it when the parent exits.
func roleRegister(ctx context.Context, child *process.ChildProcess) error {
	conn, err := child.Conn(0)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("/mp-gw%d", os.Getpid())
	if err := os.WriteFile("/dev/shm/sem."+name[1:], make([]byte, 32), 0o600); err != nil {
		return err
	}
	if err := child.RegisterResource(name, process.ResourceSemaphore); err != nil {
		return err
	}
	return conn.Send(ctx, name)
}

// roleWatch says "ready", closes its Pipe end and waits for the parent to
// die; then it writes the context's cause to the marker file.
func roleWatch(ctx context.Context, child *process.ChildProcess) error {
	conn, err := child.Conn(0)
	if err != nil {
		return err
	}
	marker, _ := child.Arg(1).(string)
	if err := conn.Send(ctx, "ready"); err != nil {
		return err
	}
	conn.Close()
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		return errors.New("parent did not die")
	}
	return os.WriteFile(marker, []byte(context.Cause(ctx).Error()+"\n"), 0o600)
}

func roleEcho(child *process.ChildProcess) error {
	conn, err := child.Conn(0)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := child.Conn(0); !errors.Is(err, process.ErrFDTaken) {
		return fmt.Errorf("second Conn(0): %v, want ErrFDTaken", err)
	}
	ctx, cancel := context.WithTimeout(child.Context(), 20*time.Second)
	defer cancel()
	var msg any
	if err := conn.Recv(ctx, &msg); err != nil {
		return err
	}
	extra, _ := child.Kwarg("extra")
	ident := make([]any, 0, len(child.Identity()))
	for _, n := range child.Identity() {
		ident = append(ident, n)
	}
	return conn.Send(ctx, map[string]any{
		"name":         child.Name(),
		"pid":          child.Pid(),
		"parent_pid":   child.ParentPid(),
		"parent_name":  child.ParentName(),
		"parent_alive": child.ParentAlive(),
		"authkey":      child.Authkey(),
		"daemon":       child.Daemon(),
		"identity":     ident,
		"tracker_fd":   child.TrackerFD(),
		"target_none":  child.Target() == nil,
		"data":         child.Arg(1),
		"msg":          msg,
		"extra":        extra,
	})

}

// roleKinds answers with the class of each argument after the first, and
// for Pipe ends the flags they were rebuilt with.
func roleKinds(child *process.ChildProcess) error {
	conn, err := child.Conn(0)
	if err != nil {
		return err
	}
	defer conn.Close()
	var kinds []any
	for i := 1; i < child.NumArgs(); i++ {
		a := child.Arg(i)
		o, ok := a.(*pickle.Object)
		if !ok {
			kinds = append(kinds, fmt.Sprintf("%T", a))
			continue
		}
		k := o.Class().String()
		if c, err := child.Conn(i); err == nil {
			k += fmt.Sprintf(" r=%v w=%v", c.Readable(), c.Writable())
			c.Close()
		}
		if o.Class() == (pickle.Global{Module: "multiprocessing.sharedctypes", Name: "synchronized"}) {
			v, err := readSharedCtype(child, o)
			if err != nil {
				return err
			}
			k += " " + v
		}
		kinds = append(kinds, k)
	}
	return conn.Send(context.Background(), kinds)
}

// readSharedCtype reads a Value('i') or Array('d') from the arena the parent
// passed: synchronized(rebuild_ctype(type, BufferWrapper{_state: ((arena,
// start, stop), size)}, length), lock) with arena = rebuild_arena(size,
// _DupFd) — the way the sharedmem package will.
func readSharedCtype(child *process.ChildProcess, o *pickle.Object) (string, error) {
	ctype, ok := o.Args[0].(*pickle.Object)
	if !ok || len(ctype.Args) != 3 {
		return "", fmt.Errorf("unexpected synchronized argument %v", o.Args[0])
	}
	typ, _ := ctype.Args[0].(pickle.Global)
	bw, ok := ctype.Args[1].(*pickle.Object)
	if !ok {
		return "", fmt.Errorf("no BufferWrapper")
	}
	st, _ := bw.State.(*pickle.Dict)
	stv, _ := st.Get("_state")
	state, _ := stv.(pickle.Tuple)
	if len(state) != 2 {
		return "", fmt.Errorf("BufferWrapper state %v", stv)
	}
	block, _ := state[0].(pickle.Tuple)
	size, _ := state[1].(int64)
	arena, _ := block[0].(*pickle.Object)
	start, _ := block[1].(int64)
	arenaSize, _ := arena.Args[0].(int64)
	f, err := child.File(arena.Args[1], "arena")
	if err != nil {
		return "", err
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), 0, int(arenaSize), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return "", err
	}
	defer unix.Munmap(mem)
	b := mem[start : start+size]
	var vals []string
	switch typ.Name {
	case "c_int":
		for i := 0; i+4 <= len(b); i += 4 {
			vals = append(vals, strconv.Itoa(int(int32(binary.LittleEndian.Uint32(b[i:])))))
		}
	case "c_double":
		for i := 0; i+8 <= len(b); i += 8 {
			vals = append(vals, strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(b[i:])), 'g', -1, 64))
		}
	default:
		return "", fmt.Errorf("unexpected ctype %v", typ)
	}
	return typ.Name + "=" + strings.Join(vals, ","), nil
}
