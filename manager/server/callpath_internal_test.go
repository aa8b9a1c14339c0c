package server

import (
	"encoding/hex"
	"testing"

	"github.com/mpwire/mpwire/pickle"
)

// BenchmarkCallPath is the server's CPU per call without the socket: decode
// a request as a Python client pickles it (dict __setitem__ or
// __getitem__, protocol 4), run it, pickle the reply. go run ./benchmarks
// (case manager) measures the whole call, system calls included.
func BenchmarkCallPath(b *testing.B) {
	s := New(nil)
	defer s.Close()
	res, err := s.control("create", pickle.Tuple{"dict"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	id := res.(pickle.Tuple)[0].(string)
	// Python 3.11: pickle.dumps((id, '__setitem__', ('k1', 5), {}))
	// with the ident replaced below (same length).
	set, _ := hex.DecodeString("8004952c00000000000000288c0c376630303030303031303030948c0b5f5f7365746974656d5f5f948c026b31944b0586947d9474942e")
	get, _ := hex.DecodeString("8004952a00000000000000288c0c376630303030303031303030948c0b5f5f6765746974656d5f5f948c026b319485947d9474942e")
	if len(id) != 12 {
		b.Fatalf("ident %q is not 12 characters", id)
	}
	copy(set[14:], id)
	copy(get[14:], id)
	caller := callerID(1)
	var out []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		msg := set
		if i&1 != 0 {
			msg = get
		}
		var v any
		if err := s.dec.Unmarshal(msg, &v); err != nil {
			b.Fatal(err)
		}
		r := &request{peer: "x"}
		reply := s.call(caller, v, r)
		out, err = replyEnc.AppendMarshal(out[:0], reply)
		if err != nil {
			b.Fatal(err)
		}
		if reply[0] != "#RETURN" {
			b.Fatalf("reply %v", reply)
		}
	}
}
