package sharedmem_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/sharedmem"
)

func worker(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe
}

// runValues runs pyfixtures/shm_values.py and decodes its JSON line
// (numbers kept exact).
func runValues(t *testing.T, py pyharness.Interpreter, d time.Duration, args ...string) map[string]any {
	t.Helper()
	ctx := pyharness.Context(t, d)
	out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "shm_values.py",
		Args: append([]string{"--go", worker(t), "--timeout", strconv.Itoa(int(d.Seconds()))}, args...), KillGrace: 10 * time.Second})
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m), "output %q", out)
	return m
}

func num(v any) string { return string(v.(json.Number)) }

func TestValueArrayFromPythonParent(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Run("the Value/Array tutorial with a Go child", func(t *testing.T) {
			m := runValues(t, py, 40*time.Second, "--scenario", "seed")
			assert.Equal(t, "0", num(m["exitcode"]))
			assert.Equal(t, "3.1415927", num(m["value"]))
			var arr []string
			for _, x := range m["array"].([]any) {
				arr = append(arr, num(x))
			}
			assert.Equal(t, []string{"0", "-1", "-2", "-3", "-4", "-5", "-6", "-7", "-8", "-9"}, arr)
		})

		t.Run("a SharedMemory and a ShareableList in the spawn pickle reach a Go child", func(t *testing.T) {
			m := runValues(t, py, 40*time.Second, "--scenario", "named")
			assert.Equal(t, "0", num(m["exitcode"]))
			assert.Equal(t, "from go", m["shm"])
			assert.Equal(t, []any{"from go", json.Number("1"), json.Number("3.5")}, m["list"])
			assert.Equal(t, true, m["exists"], "the Go child did not unlink the parent's segment")
		})

		t.Run("every typecode, raw and synchronized, reaches a Go child and back", func(t *testing.T) {
			m := runValues(t, py, 40*time.Second, "--scenario", "types")
			require.Equal(t, "0", num(m["exitcode"]), "worker failed")
			reads := m["reads"].([]any)
			after := m["after"].([]any)
			// Six objects per typecode: Value, RawValue, Value(lock=False),
			// Array, RawArray, Array(lock=False); then the string, the
			// 1000-int array and the Value with a Lock.
			inits := []struct {
				value, newValue string
				array           []string
			}{
				{"-5", "-42", []string{"-128", "0", "127"}},
				{"200", "42", []string{"0", "1", "255"}},
				{"-300", "-42", []string{"-32768", "5", "32767"}},
				{"60000", "42", []string{"0", "7", "65535"}},
				{"7", "-42", []string{"-2147483648", "0", "2147483647"}},
				{"4000000000", "42", []string{"0", "1", "4294967295"}},
				{"-9000000000", "-42", []string{"-9223372036854775808", "0", "9223372036854775807"}},
				{"18446744073709551615", "42", []string{"0", "9223372036854775808", "18446744073709551615"}},
				{"-4611686018427387904", "-42", []string{"-1", "0", "1"}},
				{"9223372036854775813", "42", []string{"3", "2", "1"}},
				{"0.5", "-1.25", []string{"1.5", "-2.25", "0.0"}},
				{"3.25", "-1.25", []string{"1e+300", "-0.5", "2.0"}},
				{`{"bytes":"78"}`, `{"bytes":"5a"}`, []string{`{"bytes":"61"}`, `{"bytes":"62"}`, `{"bytes":"63"}`}},
				{`"é"`, `"Ω"`, []string{`"a"`, `"Ω"`, `"z"`}},
				{"true", "false", []string{"true", "false", "true"}},
			}
			require.Len(t, reads, 6*len(inits)+3)
			js := func(v any) string {
				b, err := json.Marshal(v)
				require.NoError(t, err)
				return string(b)
			}
			norm := func(s string) string { // JSON floats: Python writes 0.0, Go 0
				if f, err := strconv.ParseFloat(s, 64); err == nil && strings.ContainsAny(s, ".e") {
					return strconv.FormatFloat(f, 'g', -1, 64)
				}
				return s
			}
			normAll := func(ss []string) []string {
				out := make([]string, len(ss))
				for i, s := range ss {
					out[i] = norm(s)
				}
				return out
			}
			types := m["types"].([]any)
			for i, in := range inits {
				for j := 0; j < 3; j++ {
					k := 6*i + j
					assert.Equal(t, norm(in.value), norm(js(reads[k])), "Go read of %s #%d", types[k], k)
					assert.Equal(t, norm(in.newValue), norm(js(after[k])), "Python read of %s #%d after Go wrote", types[k], k)
				}
				rev := append([]string(nil), in.array...)
				for a, b := 0, len(rev)-1; a < b; a, b = a+1, b-1 {
					rev[a], rev[b] = rev[b], rev[a]
				}
				for j := 3; j < 6; j++ {
					k := 6*i + j
					var got, back []string
					for _, x := range reads[k].([]any) {
						got = append(got, norm(js(x)))
					}
					assert.Equal(t, normAll(in.array), got, "Go read of %s #%d", types[k], k)
					if in.value == `{"bytes":"78"}` { // a c_char array's [:] is bytes
						assert.Equal(t, `{"bytes":"636261"}`, js(after[k]))
						continue
					}
					if in.value == `"é"` { // and a c_wchar array's is str
						assert.Equal(t, `"zΩa"`, js(after[k]))
						continue
					}
					for _, x := range after[k].([]any) {
						back = append(back, norm(js(x)))
					}
					assert.Equal(t, normAll(rev), back, "Python read of %s #%d after Go reversed it", types[k], k)
				}
			}
			n := 6 * len(inits)
			assert.Equal(t, `{"bytes":"68656c6c6f20776f726c64"}`, js(reads[n]))
			assert.Equal(t, `{"bytes":"676f"}`, js(after[n]), "SynchronizedString.value after SetValue(\"go\")")
			assert.Len(t, reads[n+1], 1000)
			assert.Equal(t, "5", js(reads[n+2]))
			assert.Equal(t, "-42", js(after[n+2]))
			for k, want := range map[int]string{0: "Synchronized", 1: "c_byte", 3: "SynchronizedArray", 4: "c_byte_Array_3", n: "SynchronizedString"} {
				assert.Equal(t, want, types[k])
			}
		})
	})
}

// TestSharedCounter is the lock test: 2 Python children and 2 Go workers
// increment one Value('i') under its RLock at the same time. The count is
// exact only if Go and Python exclude each other. MPWIRE_STRESS=1 runs the
// full 100,000 increments per process.
func TestSharedCounter(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	if os.Getenv("MPWIRE_STRESS") == "1" {
		n = 100000
	}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		d := 60 * time.Second
		if n >= 100000 {
			d = 600 * time.Second
		}
		m := runValues(t, py, d, "--scenario", "counter", "--n", strconv.Itoa(n))
		for _, c := range m["exitcodes"].([]any) {
			assert.Equal(t, "0", num(c))
		}
		assert.Equal(t, strconv.Itoa(4*n), num(m["value"]))
		t.Logf("%s: %d increments by 2 Python + 2 Go processes in %ss", py.Name(), 4*n, num(m["seconds"]))
	})
}

func TestGoValueArray(t *testing.T) {
	v, err := sharedmem.NewValue(sharedmem.CInt)
	require.NoError(t, err)
	defer v.Close()
	assert.True(t, v.Synchronized())
	require.NoError(t, v.SetInt(-7))
	x, err := v.Int()
	require.NoError(t, err)
	assert.Equal(t, int64(-7), x)
	assert.Equal(t, int64(-7), v.Load())
	assert.ErrorIs(t, v.SetInt(1<<31), sharedmem.ErrRange)
	assert.ErrorIs(t, v.Store("x"), sharedmem.ErrType)
	assert.ErrorIs(t, v.SetFloat(1), sharedmem.ErrType)
	p, err := sharedmem.Pointer[int32](v)
	require.NoError(t, err)
	*p = 99
	assert.Equal(t, int64(99), v.Load())
	_, err = sharedmem.Pointer[int64](v)
	assert.ErrorIs(t, err, sharedmem.ErrType)

	// The lock excludes goroutines of this process as well.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				require.NoError(t, v.WithLock(context.Background(), func() error {
					x, _ := v.Int()
					return v.SetInt(x + 1)
				}))
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(2099), v.Load())

	a, err := sharedmem.NewRawArray(sharedmem.CUshort, 4)
	require.NoError(t, err)
	defer a.Close()
	assert.False(t, a.Synchronized())
	assert.ErrorIs(t, a.Lock(context.Background()), sharedmem.ErrNoLock)
	require.NoError(t, a.SetInts([]int64{1, 2, 3, 65535}))
	assert.ErrorIs(t, a.SetInts([]int64{-1}), sharedmem.ErrRange)
	xs, err := a.Ints()
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3, 65535}, xs)
	s, err := sharedmem.Slice[uint16](a)
	require.NoError(t, err)
	s[0] = 10
	last, err := a.Load(-1)
	require.NoError(t, err)
	assert.Equal(t, uint64(65535), last)
	first, err := a.Int(0)
	require.NoError(t, err)
	assert.Equal(t, int64(10), first)
	_, err = a.Load(4)
	assert.ErrorIs(t, err, sharedmem.ErrIndex)

	_, err = sharedmem.NewValue(sharedmem.CType{Name: "c_int", Code: 'i', Size: 8, Kind: sharedmem.Signed})
	assert.ErrorIs(t, err, sharedmem.ErrType, "a hand-made CType with the wrong size")

	c, err := sharedmem.NewArray(sharedmem.CChar, 5)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetValue([]byte("abc")))
	b, err := c.Value()
	require.NoError(t, err)
	assert.Equal(t, []byte("abc"), b)
	assert.ErrorIs(t, c.SetValue([]byte("toolong")), sharedmem.ErrCapacity)
	assert.True(t, bytes.Equal(c.Bytes()[:4], []byte("abc\x00")))
}

// TestValueArrayToPythonChild is the tutorial the other way round: a Go
// parent allocates the Value and Array, a Python spawn child (a normal
// multiprocessing child running pyfixtures/shm_targets.py) updates them.
func TestValueArrayToPythonChild(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		v, err := sharedmem.NewValue(sharedmem.CDouble)
		require.NoError(t, err)
		defer v.Close()
		a, err := sharedmem.NewArray(sharedmem.CInt, 10)
		require.NoError(t, err)
		defer a.Close()
		require.NoError(t, a.SetInts([]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}))
		raw, err := sharedmem.NewRawArray(sharedmem.CChar, 8)
		require.NoError(t, err)
		defer raw.Close()
		require.NoError(t, raw.SetValue([]byte("go")))

		ctx := pyharness.Context(t, 40*time.Second)
		var out, errb bytes.Buffer
		p, err := process.Start(ctx, process.Spec{
			Python: py.Path, Target: "shm_targets:seed", Path: []string{pyharness.Dir()},
			Args: []any{v, a, raw}, Stdout: &out, Stderr: &errb, Setpgid: true,
		})
		require.NoError(t, err)
		require.NoError(t, p.Wait(ctx), "child stderr:\n%s", errb.String())
		f, err := v.Float()
		require.NoError(t, err)
		assert.Equal(t, 3.1415927, f)
		xs, err := a.Ints()
		require.NoError(t, err)
		assert.Equal(t, []int64{0, -1, -2, -3, -4, -5, -6, -7, -8, -9}, xs)
		rb, err := raw.Value()
		require.NoError(t, err)
		assert.Equal(t, "py", string(rb))
		assert.Equal(t, "Synchronized SynchronizedArray c_char_Array_8 b'go'\n", out.String())
	})
}

// TestSharedCounterGoParent is TestSharedCounter with Go as the parent: it
// allocates the Value and starts 2 Python children and 2 Go children
// (this test binary as a spawn worker) through process.Start.
func TestSharedCounterGoParent(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	if os.Getenv("MPWIRE_STRESS") == "1" {
		n = 100000
	}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		d := 60 * time.Second
		if n >= 100000 {
			d = 600 * time.Second
		}
		ctx := pyharness.Context(t, d)
		v, err := sharedmem.NewValue(sharedmem.CInt)
		require.NoError(t, err)
		defer v.Close()
		var errb pyharness.SyncBuffer
		specs := []process.Spec{
			{Python: py.Path, Target: "shm_targets:incr", Path: []string{pyharness.Dir()}},
			{Python: py.Path, Target: "shm_targets:incr", Path: []string{pyharness.Dir()}},
			{Executable: []string{worker(t)}, Kwargs: map[string]any{"role": "incr"}},
			{Executable: []string{worker(t)}, Kwargs: map[string]any{"role": "incr"}},
		}
		start := time.Now()
		// Hold the lock while the children start, so that all four contend
		// for it from the moment it is released.
		require.NoError(t, v.Lock(context.Background()))
		var procs []*process.Process
		for _, s := range specs {
			s.Args = []any{v, n}
			s.Stderr = &errb
			s.Setpgid = true
			p, err := process.Start(ctx, s)
			require.NoError(t, err)
			procs = append(procs, p)
		}
		time.Sleep(500 * time.Millisecond)
		require.NoError(t, v.Unlock())
		for _, p := range procs {
			require.NoError(t, p.Wait(ctx), "stderr:\n%s", errb.String())
		}
		x, err := v.Int()
		require.NoError(t, err)
		assert.Equal(t, int64(4*n), x)
		t.Logf("%s: %d increments by 2 Python + 2 Go children of a Go parent in %v", py.Name(), 4*n, time.Since(start))
	})
}
