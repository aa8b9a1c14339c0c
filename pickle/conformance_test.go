package pickle

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// TestMain doubles as the Go helper of pyfixtures/pickle_conformance.py when
// run by hand: with MPWIRE_PICKLE_HELPER=1 the test binary serves
// round-trip requests on stdin/stdout instead of running tests.
func TestMain(m *testing.M) {
	if os.Getenv("MPWIRE_PICKLE_HELPER") == "1" {
		if err := serveRoundTrips(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "pickle helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Round-trip helper statuses (see pyfixtures/pickle_conformance.py).
const (
	rtOK          = 0
	rtDecodeError = 1
	rtEncodeError = 2
	rtSameProto   = 255
)

// serveRoundTrips answers framed requests until r ends: each request is a
// pickle that Go decodes into *any and re-encodes at the requested
// protocol.
func serveRoundTrips(r io.Reader, w io.Writer) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	var hdr [6]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		proto, flags, n := int(hdr[0]), hdr[1], binary.LittleEndian.Uint32(hdr[2:])
		buf = slices.Grow(buf[:0], int(n))[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		status, out := roundTrip(buf, proto, flags&1 != 0)
		var rh [5]byte
		rh[0] = status
		binary.LittleEndian.PutUint32(rh[1:], uint32(len(out)))
		bw.Write(rh[:])
		bw.Write(out)
		if err := bw.Flush(); err != nil {
			return err
		}
	}
}

// roundTrip decodes data into *any and re-encodes it at proto
// (rtSameProto: the input's PROTO argument, else 0), returning a status
// and the pickle or the error text.
func roundTrip(data []byte, proto int, binaryStrings bool) (byte, []byte) {
	dm, _ := DecOptions{BinaryStrings: binaryStrings}.DecMode()
	var v any
	if err := dm.Unmarshal(data, &v); err != nil {
		return rtDecodeError, []byte(err.Error())
	}
	if proto == rtSameProto {
		proto = 0
		if len(data) >= 2 && data[0] == opProto && data[1] <= highestProtocol {
			proto = int(data[1])
		}
	}
	em, err := EncOptions{Protocol: proto, ProtocolZero: proto == 0}.EncMode()
	if err != nil {
		return rtEncodeError, []byte(err.Error())
	}
	out, err := em.Marshal(v)
	if err != nil {
		return rtEncodeError, []byte(err.Error())
	}
	return rtOK, out
}

// suiteExclusions are the tests of test.pickletester that cannot apply to
// a codec reached only through loads and dumps; they are not run.
var suiteExclusions = map[string]string{
	// They need a Pickler or Unpickler class object (subclassing it,
	// calling its methods, feeding it files).
	"test_find_class":                             needsClass,
	"test_custom_find_class":                      needsClass,
	"test_framed_write_sizes_with_delayed_writer": needsClass,
	"test_bad_init":                               needsClass,
	"test_callapi":                                needsClass,
	"test_pickler_bad_file":                       needsClass,
	"test_unpickler_bad_file":                     needsClass,
	// They keep buffers out of band (PEP 574: buffer_callback, buffers=),
	// which the Go codec refuses by design (NEXT_BUFFER, READONLY_BUFFER).
	"test_buffers_error":                    outOfBand,
	"test_oob_buffers":                      outOfBand,
	"test_oob_buffers_writable_to_readonly": outOfBand,
	"test_dump_load_oob_buffers":            outOfBand,
	"test_dumps_loads_oob_buffers":          outOfBand,
}

const (
	needsClass = "needs a Pickler/Unpickler class object"
	outOfBand  = "out-of-band buffers (PEP 574), refused by design"
)

// suiteKnownFailures are applicable tests that fail, with the reason. A
// failure not listed here fails TestCPythonPickleSuite, and so does a pass
// rate below suiteMinPassRate.
var suiteKnownFailures = map[string]string{}

// suiteMinPassRate is the share of applicable tests that must pass on every
// interpreter.
const suiteMinPassRate = 0.97

// suiteRow is one test's result as pickle_conformance.py reports it.
type suiteRow struct {
	Test    string `json:"test"`
	Status  string `json:"status"`  // pass, fail, error, skip, excluded
	Calls   int    `json:"calls"`   // Go round trips the test made
	Refused int    `json:"refused"` // of those, inputs Go and CPython both refused
	Msg     string `json:"msg"`

	Done        *int   `json:"done"`        // the last line: tests run
	Unavailable string `json:"unavailable"` // the only line: why the suite cannot run
}

// method is the test method name of "Class.test_name".
func (r suiteRow) method() string {
	_, m, _ := strings.Cut(r.Test, ".")
	return m
}

// suiteScore counts a run: applicable tests are those not excluded, not
// skipped (32-bit only, numpy, bigmem), and not passing without a single
// Go round trip (they test nothing of the codec); a test that fails
// counts whatever it called.
type suiteScore struct {
	pass, applicable, vacuous int
	calls, refusals           int // Go round trips of all tests run, inputs refused by both
	failed                    []suiteRow
}

func scoreSuite(rows []suiteRow) suiteScore {
	var sc suiteScore
	for _, r := range rows {
		sc.calls += r.Calls
		sc.refusals += r.Refused
		switch {
		case r.Status == "excluded" || r.Status == "skip":
			continue
		case r.Status == "pass" && r.Calls == 0:
			sc.vacuous++
			continue
		case r.Status == "pass":
			sc.pass++
		default:
			sc.failed = append(sc.failed, r)
		}
		sc.applicable++
	}
	return sc
}

// TestCPythonPickleSuite runs CPython's own pickle tests (test.pickletester:
// AbstractUnpickleTests, AbstractPickleTests, AbstractPickleModuleTests)
// with every pickle going through Go: loads(b) is pickle.loads of Go's
// re-encoding of b, dumps(obj, proto) is Go's re-encoding of
// pickle.dumps(obj, proto). See pyfixtures/pickle_conformance.py.
func TestCPythonPickleSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	seen := map[string]bool{}
	ran := 0
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		start := time.Now()
		rows := runPickleSuite(t, py)
		ran++
		for _, r := range rows {
			seen[r.method()] = true
		}
		sc := scoreSuite(rows)
		for _, r := range sc.failed {
			if reason, ok := suiteKnownFailures[r.method()]; ok {
				t.Logf("known failure %s (%s): %s", r.Test, reason, r.Msg)
				continue
			}
			t.Errorf("%s %s after %d Go round trips: %s", r.Status, r.Test, r.Calls, r.Msg)
		}
		if sc.applicable < 100 {
			t.Fatalf("only %d applicable tests ran: is test.pickletester complete in %s?", sc.applicable, py)
		}
		rate := float64(sc.pass) / float64(sc.applicable)
		if rate < suiteMinPassRate {
			t.Errorf("%.1f%% of applicable tests pass, want at least %.0f%%", 100*rate, 100*suiteMinPassRate)
		}
		t.Logf("CPython %s test.pickletester: %d/%d applicable tests pass (%.1f%%) in %v, %d Go round trips (%d inputs refused by both Go and CPython); %d excluded, %d passed without a Go round trip (not counted)",
			py.Version(), sc.pass, sc.applicable, 100*rate, time.Since(start).Round(time.Millisecond), sc.calls, sc.refusals, countStatus(rows, "excluded"), sc.vacuous)
	})
	if ran == 0 && !t.Failed() {
		t.Fatal("no interpreter could run test.pickletester")
	}
	for name := range suiteExclusions {
		if !seen[name] {
			t.Logf("exclusion %s matched no test of the interpreters run", name)
		}
	}
}

func countStatus(rows []suiteRow, status string) int {
	n := 0
	for _, r := range rows {
		if r.Status == status {
			n++
		}
	}
	return n
}

func runPickleSuite(t *testing.T, py pyharness.Interpreter) []suiteRow {
	ctx := pyharness.Context(t, 3*time.Minute)
	reqR, reqW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--fds", "3,4", "--watchdog", "170"}
	for name := range suiteExclusions {
		args = append(args, "--exclude", name)
	}
	if k := os.Getenv("MPWIRE_PICKLE_SUITE_K"); k != "" {
		args = append(args, "-k", k)
	}
	p := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "pickle_conformance.py", Args: args, ExtraFiles: []*os.File{respR, reqW}})
	respR.Close()
	reqW.Close()
	served := make(chan error, 1)
	go func() {
		err := serveRoundTrips(reqR, respW)
		reqR.Close()
		respW.Close()
		served <- err
	}()
	var rows []suiteRow
	for {
		line, err := p.ReadLine(ctx)
		if err != nil {
			t.Fatalf("reading results: %v", err)
		}
		var r suiteRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("result line %q: %v", line, err)
		}
		if r.Unavailable != "" {
			t.Skipf("%s: %s", py, r.Unavailable)
		}
		if r.Done != nil {
			break
		}
		rows = append(rows, r)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("pickle_conformance.py: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serving round trips: %v", err)
	}
	return rows
}
