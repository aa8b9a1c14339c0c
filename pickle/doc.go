// Package pickle encodes and decodes Python pickles (protocols 0–5), the
// payload of every multiprocessing message. It knows nothing about sockets.
//
// Marshal writes protocol 4 (what Python 3.8–3.13 send()) framed and
// memoized like CPython's C pickler, so plain data gives the same bytes as
// pickle.dumps(obj, 4). Unmarshal reads every opcode of protocols 0–5 and
// never imports, resolves or calls anything: classes and functions stay
// names (Global), instances stay descriptions (*Object).
//
// How multiprocessing objects pickle, per CPython version, and CPython's
// own unpickler limits are specified in docs/spec.md#pickle.
//
// # Python ⇄ Go types
//
//	Python                  Unmarshal into *any           Marshal also accepts
//	----------------------  ----------------------------  ---------------------------------
//	None                    nil                           nil pointer, map, interface
//	bool                    bool
//	int                     int64, *big.Int beyond int64  every int/uint kind, big.Int
//	float                   float64                       float32
//	str                     string                        string kinds
//	bytes                   []byte                        [N]byte
//	bytearray               ByteArray
//	list                    []any                         slices, arrays
//	tuple                   Tuple
//	dict                    *Dict                         map[string]any, map[any]any,
//	                                                      any map, struct (str keys)
//	set, frozenset          *Set, *FrozenSet
//	class, function         Global                        (GLOBAL / STACK_GLOBAL)
//	extension code object   Ext (unless registered)       (EXT1 / EXT2 / EXT4)
//	exception (builtins)    *PythonError
//	datetime.datetime       *Object  (typed: time.Time)   time.Time
//	datetime.timedelta      *Object  (typed: time.Duration) time.Duration
//	complex                 *Object  (typed: complex128)  complex64, complex128
//	Decimal, OrderedDict,   *Object{Callable, Args, State, ListItems, DictItems}
//	any other instance
//	registered class        the Go type of RegisterClass  that type or a pointer to it
//	(anything)                                            Marshaler: its MarshalPickle value
//
// Decoding into a typed Go value (not *any) works like encoding/json: a
// struct from a dict with str keys (field names, `pickle:"name,omitempty"`
// tags, "-" to skip, case-insensitive fallback), maps, slices, arrays,
// every int and uint size (overflow is an *UnmarshalTypeError naming the
// field path), time.Time from datetime.datetime or datetime.date,
// time.Duration from datetime.timedelta, big.Int, []byte from
// bytes/bytearray, complex from builtins.complex, any Unmarshaler. Plain
// data (what CPython writes for lists, dicts, str, bytes, numbers) is read
// straight into the target through plans cached per Go type, without a
// generic value in between, when the target is the zero value or a slice
// (a struct reused across decodes takes the general path, which merges
// into it); anything else — another opcode, a type such as time.Time or an
// interface, a value the type cannot hold — is decoded into the generic
// value first and converted, which also decides every error. Either way a
// list referenced twice becomes slices sharing one backing array, a dict
// read twice into *T one pointer, so shared references cost nothing twice.
// Marshal writes struct fields in field order; `omitempty` leaves out
// empty values (false, 0, "", nil, zero length) and `omitzero` zero values
// (by the type's IsZero method if it has one: a zero time.Time is left
// out, not sent as datetime(1, 1, 1, tzinfo=utc)).
//
// Datetimes: a naive datetime decodes to a time.Time in the location Naive
// and one in Naive encodes naive; any other location (time.UTC included)
// encodes an aware datetime with tzinfo datetime.timezone(offset). Decoded
// timezone(timedelta(0)) is time.UTC, other offsets time.FixedZone,
// zoneinfo.ZoneInfo(key) time.LoadLocation(key). Sub-microsecond time is
// truncated.
//
// Python 2 names (__builtin__, copy_reg, Cookie, …) in protocol 0–2 pickles
// are mapped to Python 3 names as Unpickler(fix_imports=True) does, and back
// when writing protocols 0–2. STRING/BINSTRING (Python 2 str) decode to
// string when ASCII, else []byte (DecOptions.BinaryStrings: always []byte).
// Lone surrogates in a str ('\ud800') are kept in the Go string in their
// 'surrogatepass' form, so they round-trip.
//
// # Identity: shared and self-referential values
//
// The decoder keeps Python's object graph. A dict, set or instance that the
// pickle references twice is one *Dict, *Set or *Object; a list referenced
// twice is one []any (the same backing array, and non-empty capacity even
// when empty), and a list that contains itself is a []any whose element is
// that same slice (l = []; l.append(l) decodes to s with s[0] sharing s's
// array). Marshal memoizes by the same identities — pointers for *Dict,
// *Set, *FrozenSet, *Object, maps and pointers to structs; backing array
// and length for []any, Tuple, []byte and typed slices; data pointer and
// length for strings — so decoding and re-encoding gives Python the same
// structure:
// (a, a) stays two references to one list, a dict containing itself
// stays so, a tuple inside a list inside that tuple is written as CPython
// writes it. Do not print self-referential values with fmt (it recurses).
//
// A string is written once per encode and fetched from the memo where the
// same string (same bytes in memory: a literal, a map key also used as a
// value, a str the pickle fetched twice) recurs; equal strings at different
// addresses are written each time, as CPython writes equal but distinct str
// objects. Three kinds of strings go by content instead, as CPython keeps
// one object of each: the empty string, one-character strings of U+0000 to
// U+00FF, and the module names of globals.
//
// Dict keys also go by content among dict keys: a str key (of a Go map, a
// *Dict, a map[any]any, or a struct field name) equal to a str written
// earlier in the encode as a dict key is fetched from it, as CPython's dicts
// share one str per key text (literal keys are interned, the json module
// makes one str of each key, csv.DictReader reuses its field names) where
// Go's encoding/json makes a string per key per object. A key not equal to
// an earlier key goes by identity as any string; a value equal to an
// earlier key, or a key equal to an earlier value, is written again unless
// it is the same string (CPython's json shares its key objects among keys
// only).
//
// The encoder errors instead of overflowing the stack on values nested
// deeper than EncOptions.MaxDepth — the only way a Go cycle reaches it is
// through something a pickle cannot express, e.g. a Marshaler returning a
// fresh value each time.
//
// # Limits and security
//
// Decoding is safe on hostile input with the default DecOptions: it never
// panics, allocates in proportion to the input actually read, and enforces
//
//	MaxDepth         10000      nesting of containers in the result
//	MaxMemo          2^24       memo entries (a sparse LONG_BINPUT 0x7fffffff costs one)
//	MaxContainerLen  2^26       elements of one list, tuple, dict or set
//	MaxLongDigits    4300       digits of a text INT/LONG (as CPython's int_max_str_digits)
//	MaxLongBytes     2^20       bytes of one LONG1/LONG4
//	MaxObjects       2^27       values created, including typed conversion
//	MaxAlloc         64 MiB +   bytes one decode allocates for its result,
//	                 64/byte    generic or typed (a value copied once per
//	                            reference into arrays: the "billion
//	                            laughs" guard)
//	MaxInput         2 GiB      bytes of one pickle read by a Decoder
//
// Every limit error wraps ErrLimit; MaxAlloc is reported as a *LimitError
// naming it. Amplification is bounded too: decoding n bytes into *any
// allocates at most 192n bytes + 64 KiB (FuzzDecodeCost checks it; an
// empty dict costs 40 bytes, values are carved from slabs sized to the
// input), because shared references stay shared and a dict key or set
// element is hashed once per distinct object, into a fixed-size key (a
// tuple of tuples of the same tuple, 2^n leaves by content, costs n steps).
// Repr output and the work behind it are bounded by ReprOptions.MaxLen. A length claimed by an opcode is never
// allocated before the bytes are there: in memory it is checked against the
// remaining input (a 10-byte pickle claiming 4 GiB fails at once), and a
// Decoder reads in chunks that grow at most by the amount already received.
// FRAME lengths are checked against the remaining input. PERSID/BINPERSID
// and out-of-band buffers (NEXT_BUFFER, READONLY_BUFFER) are refused
// (ErrUnsupported). EXT1/2/4 decode to the Global registered with
// RegisterExtension, or else to an Ext that Marshal writes back as the same
// code. Malformed input gives a *SyntaxError with the offset and opcode;
// what CPython's unpickler refuses outright (a badly quoted STRING, a
// malformed UNICODE escape, an empty GLOBAL line, None called by REDUCE)
// is refused too.
//
// CPython's own pickle tests (test.pickletester) run against the codec in
// TestCPythonPickleSuite: every pickle goes Go Unmarshal → Go Marshal →
// pickle.loads, every pickle.dumps result Go Unmarshal → Go Marshal (README,
// "Pickle conformance").
//
// # Concurrency
//
// Marshal, Unmarshal, EncMode and DecMode are safe for concurrent use;
// RegisterClass and RegisterExtension may be called concurrently with them
// but are meant for init. An Encoder or a Decoder belongs to one goroutine.
// Decoded values are plain Go values with no hidden sharing beyond the
// Python identities described above; *Dict and *Set are not safe for
// concurrent mutation.
package pickle
