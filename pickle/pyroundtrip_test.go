package pickle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// pyRoundTrip is run with python -c. "gen" prints a JSON list of
// [case, protocol, hex] pickles of varied values; "check" reads a JSON
// list of [case, origHex, oursHex] from stdin and prints one line per pair
// whose unpickled values differ (type, value, NaN/-0.0, or identity
// structure: shared and self-referential containers).
const pyRoundTrip = `
import sys, json, pickle, datetime, decimal, collections, math

def values():
    l = []; l.append(l)
    a = [1]
    d = {}; d['self'] = d
    t = ([],); t[0].append(t)
    s = 'shared'
    big = [{'id': i, 'name': 'n%d' % i, 'ok': i % 2 == 0, 'score': i / 3} for i in range(30)]
    return [
        ('none', None), ('true', True), ('false', False), ('ints', [0, 1, -1, 255, 256, 65535, 65536, 2**31-1, -2**31, 2**31, 2**63-1, -2**63]),
        ('bigints', [2**64, -2**100, 10**50, -(2**63) - 1, 2**2000]),
        ('floats', [0.0, -0.0, 1.5, float('inf'), float('-inf'), 1e300, 5e-324]),
        ('nan', float('nan')),
        ('strs', ['hi', '', 'h\xe9llo\u1234\U0001f600', 'a\\b\nc\r\x00\x1a', '\ud800x', 'x' * 300]),
        ('bytes', [b'', b'\x00\x01', bytes(range(256))]),
        ('bytearray', [bytearray(b'xy'), bytearray()]),
        ('lists', [[], [1, 2.5, 'x'], [[[[1]]]]]),
        ('tuples', [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)]),
        ('dicts', [{}, {'k': (1, True)}, {1: 'a', (1, 2): 'b', None: 3, 2.5: 4, b'x': 5, frozenset({1}): 6, True: 7}]),
        ('sets', [set(), {1, 2, 3}, frozenset(), frozenset({'a', (1, 2)})]),
        ('selflist', l), ('shared', (a, a, s, s)), ('selfdict', d), ('rectuple', t),
        ('records', big), ('longlist', list(range(3000))), ('longdict', {str(i): i for i in range(2500)}),
        ('bigstr', 'x' * 70000), ('bigbytes', b'y' * 70000),
        ('datetime', [datetime.datetime(2024, 1, 2, 3, 4, 5, 6), datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc), datetime.date(2020, 2, 29)]),
        ('timedelta', datetime.timedelta(days=-1, seconds=3, microseconds=7)),
        ('decimal', decimal.Decimal('1.5')), ('ordereddict', collections.OrderedDict([('a', 1), ('b', [2])])),
        ('complex', 3 + 4j), ('exceptions', [ValueError('bad', 3), KeyError('k'), OSError(2, 'nope')]),
        ('globals', [int, len, collections.OrderedDict]),
    ]

def same(x, y, seen):
    if type(x) is not type(y):
        return False
    if isinstance(x, float):
        if math.isnan(x):
            return math.isnan(y)
        return x == y and math.copysign(1, x) == math.copysign(1, y)
    if isinstance(x, BaseException):
        return x.args == y.args or same(x.args, y.args, seen)
    if isinstance(x, (list, tuple, dict, set, frozenset, collections.OrderedDict)):
        k = (id(x), id(y))
        if k in seen:
            return True
        # identity structure: x maps to y consistently
        if id(x) in seen_x and seen_x[id(x)] is not y:
            return False
        if id(y) in seen_y and seen_y[id(y)] is not x:
            return False
        seen_x[id(x)] = y
        seen_y[id(y)] = x
        seen.add(k)
        if isinstance(x, dict):
            if list(x.keys()) != list(y.keys()) and set(map(repr, x.keys())) != set(map(repr, y.keys())):
                return False
            return all(same(x[kk], y[kk], seen) for kk in x)
        if isinstance(x, (set, frozenset)):
            return x == y
        return len(x) == len(y) and all(same(a, b, seen) for a, b in zip(x, y))
    return x == y

seen_x = {}
seen_y = {}

if sys.argv[1] == 'gen':
    out = []
    for name, v in values():
        for p in range(6):
            out.append([name, p, pickle.dumps(v, p).hex()])
    json.dump(out, sys.stdout)
else:
    bad = 0
    for name, a, b in json.load(sys.stdin):
        seen_x = {}
        seen_y = {}
        x = pickle.loads(bytes.fromhex(a))
        try:
            y = pickle.loads(bytes.fromhex(b))
        except Exception as e:
            print('%s: load failed: %r' % (name, e)); bad += 1; continue
        if not same(x, y, set()):
            print('%s: %r != %r' % (name, x, y)); bad += 1
    print('checked, %d bad' % bad)
`

func TestPythonRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	pyharness.ForEach(t, testPythonRoundTrip)
}

func testPythonRoundTrip(t *testing.T, py pyharness.Interpreter) {
	ctx := pyharness.Context(t, 60*time.Second)
	// Every protocol pair on the default interpreter; re-encoding at
	// protocols 2 and 4 on the others (the differential suite in
	// interop_test.go covers the full matrix).
	all := py.Path == pyharness.DefaultT(t).Path
	out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", pyRoundTrip, "gen"}})
	var cases [][3]any
	if err := json.Unmarshal([]byte(out), &cases); err != nil {
		t.Fatalf("gen output: %v", err)
	}
	var pairs [][3]string
	var identical []string
	for _, c := range cases {
		name := c[0].(string)
		proto := int(c[1].(float64))
		data, _ := hex.DecodeString(c[2].(string))
		var v any
		if err := Unmarshal(data, &v); err != nil {
			t.Errorf("%s protocol %d: Unmarshal: %v", name, proto, err)
			continue
		}
		for p := 0; p <= 5; p++ {
			if !all && p != 4 && p != 2 {
				continue
			}
			m, _ := EncOptions{Protocol: p, ProtocolZero: p == 0}.EncMode()
			b, err := m.Marshal(v)
			if err != nil {
				t.Errorf("%s protocol %d → %d: Marshal: %v", name, proto, p, err)
				continue
			}
			// Byte-identical to CPython for everything but globals, whose
			// module-name strings CPython shares or not depending on object
			// identity (and which it renames for protocol 2).
			if p == proto && p >= 2 && name != "globals" && name != "exceptions" && hex.EncodeToString(b) != c[2].(string) {
				identical = append(identical, name+" p"+strconv.Itoa(p)+": Go "+hex.EncodeToString(b)+"\n   Python "+c[2].(string))
			}
			pairs = append(pairs, [3]string{name + " p" + strconv.Itoa(proto) + "→p" + strconv.Itoa(p), c[2].(string), hex.EncodeToString(b)})
		}
	}
	in, _ := json.Marshal(pairs)
	for _, id := range identical {
		t.Errorf("%s", id)
	}
	res := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", pyRoundTrip, "check"}, Stdin: strings.NewReader(string(in))})
	if !strings.Contains(res, "checked, 0 bad") {
		t.Errorf("Python found differences:\n%s", res)
	}
	t.Logf("%d pickles decoded, %d re-encodings checked by %s", len(cases), len(pairs), py.Name())
}

// pyTyped defines __main__.Point (registered in Go as PyPoint) and a
// payload with typed fields; "gen" prints the payload's pickle at
// protocols 2–5 as JSON, "check" loads a pickle from stdin (hex) and
// reports whether it equals the payload.
const pyTyped = `
import sys, json, pickle, datetime

class Point:
    def __eq__(self, other):
        return type(other) is Point and self.__dict__ == other.__dict__
    def __repr__(self):
        return 'Point(%r)' % self.__dict__

def payload():
    p = Point(); p.x = 1; p.y = -2; p.label = 'p\u00e9'
    tz = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    return {'point': p, 'points': [p, p], 'when': datetime.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=tz),
            'naive': datetime.datetime(1999, 12, 31, 1, 2, 3), 'utc': datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
            'took': datetime.timedelta(days=2, seconds=5, microseconds=6), 'neg': datetime.timedelta(microseconds=-1),
            'n': 2**70, 'small': -5, 'raw': b'\x00\xff', 'items': [1, 2, 3], 'flags': {'a': True}}

if sys.argv[1] == 'gen':
    print(json.dumps({p: pickle.dumps(payload(), p).hex() for p in range(2, 6)}))
else:
    for line in sys.stdin:
        name, h = line.split()
        got = pickle.loads(bytes.fromhex(h))
        want = payload()
        bad = [k for k in want if got.get(k) != want[k] or type(got.get(k)) is not type(want[k])]
        bad += [k for k in got if k not in want]
        if got['points'][0] is not got['points'][1]:
            bad.append('points identity')
        print('%s OK' % name if not bad else '%s DIFF %s: %r' % (name, bad, got))
`

// PyPoint is __main__.Point of pyTyped.
type PyPoint struct {
	X     int    `pickle:"x"`
	Y     int    `pickle:"y"`
	Label string `pickle:"label"`
}

type pyPayload struct {
	Point  PyPoint         `pickle:"point"`
	Points []*PyPoint      `pickle:"points"`
	When   time.Time       `pickle:"when"`
	Naive  time.Time       `pickle:"naive"`
	UTC    time.Time       `pickle:"utc"`
	Took   time.Duration   `pickle:"took"`
	Neg    time.Duration   `pickle:"neg"`
	N      big.Int         `pickle:"n"`
	Small  int8            `pickle:"small"`
	Raw    []byte          `pickle:"raw"`
	Items  [3]uint16       `pickle:"items"`
	Flags  map[string]bool `pickle:"flags"`
}

func TestPythonTypedInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	RegisterClass("__main__", "Point", PyPoint{})
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 30*time.Second)
		out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", pyTyped, "gen"}})
		var byProto map[string]string
		if err := json.Unmarshal([]byte(out), &byProto); err != nil {
			t.Fatalf("gen: %v", err)
		}
		var checks bytes.Buffer
		nchecks := 0
		for proto, h := range byProto {
			data, _ := hex.DecodeString(h)
			var p pyPayload
			if err := Unmarshal(data, &p); err != nil {
				t.Fatalf("protocol %s: %v", proto, err)
			}
			tz := time.FixedZone("", 5*3600+1800)
			n70 := new(big.Int).Lsh(big.NewInt(1), 70)
			switch {
			case p.Point != (PyPoint{1, -2, "p\u00e9"}) || len(p.Points) != 2 || p.Points[0] != p.Points[1] && *p.Points[0] != *p.Points[1]:
				t.Errorf("protocol %s: points %+v %+v", proto, p.Point, p.Points)
			case !p.When.Equal(time.Date(2024, 2, 29, 23, 59, 58, 123456000, tz)) || p.Naive.Location() != Naive || p.UTC.Location() != time.UTC:
				t.Errorf("protocol %s: times %v %v %v", proto, p.When, p.Naive, p.UTC)
			case p.Took != 48*time.Hour+5*time.Second+6*time.Microsecond || p.Neg != -time.Microsecond:
				t.Errorf("protocol %s: durations %v %v", proto, p.Took, p.Neg)
			case p.N.Cmp(n70) != 0 || p.Small != -5 || string(p.Raw) != "\x00\xff" || p.Items != [3]uint16{1, 2, 3} || !p.Flags["a"]:
				t.Errorf("protocol %s: %+v", proto, p)
			}
			// And back: Go's typed encoding must load as the same payload.
			for _, ep := range []int{0, 1, 2, 4, 5} {
				m, _ := EncOptions{Protocol: ep, ProtocolZero: ep == 0}.EncMode()
				b, err := m.Marshal(&p)
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				fmt.Fprintf(&checks, "from-p%s-to-p%d %x\n", proto, ep, b)
				nchecks++
			}
		}
		res := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", pyTyped, "check"}, Stdin: &checks})
		ok := 0
		for _, l := range strings.Split(res, "\n") {
			if strings.HasSuffix(l, " OK") {
				ok++
			}
		}
		if ok != nchecks {
			t.Errorf("Python loads of Go's typed pickles:\n%s", res)
		}
	})
}
