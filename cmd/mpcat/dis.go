package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mpwire/mpwire/cmd/mpcat/internal/pickledis"
	"github.com/mpwire/mpwire/cmd/mpcat/internal/pyrepr"
	"github.com/mpwire/mpwire/connection"
)

// maxDisInput bounds what dis reads (a pickle file or a capture of frames).
const maxDisInput = 1 << 30

func runDis(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mpcat dis", flag.ContinueOnError)
	fs.SetOutput(stderr)
	frames := fs.Bool("frames", false, "the input is a stream of multiprocessing frames (4-byte big-endian length + payload), one pickle each")
	asJSON := fs.Bool("json", false, "print one JSON object per pickle")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: mpcat dis [flags] FILE|-\n\nDisassemble every pickle in FILE (- for stdin) like pickletools.dis:\noffset, opcode, argument, MARK and memo annotations, sanity checks.\n\nflags:\n")
		fs.PrintDefaults()
	}
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	var r io.Reader = stdin
	if name := pos[0]; name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "mpcat dis: %v\n", err)
			return 1
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxDisInput+1))
	if err != nil {
		fmt.Fprintf(stderr, "mpcat dis: reading input: %v\n", err)
		return 1
	}
	if len(data) > maxDisInput {
		fmt.Fprintf(stderr, "mpcat dis: input larger than %d bytes\n", maxDisInput)
		return 1
	}
	d := &disPrinter{out: stdout, json: *asJSON}
	if *frames {
		return d.frames(data, stderr)
	}
	if len(data) == 0 {
		fmt.Fprintln(stderr, "mpcat dis: empty input")
		return 1
	}
	if !d.pickles(data, 0, -1) {
		return 1
	}
	return 0
}

type disPrinter struct {
	out   io.Writer
	json  bool
	count int
}

// pickles disassembles the pickles in data[start:] one after another;
// frame is the frame number (-1 outside --frames). It reports success.
func (d *disPrinter) pickles(data []byte, start int, frame int) bool {
	pos := start
	for pos < len(data) {
		res := pickledis.DisAt(data, pos)
		d.print(res, pos, frame)
		if res.Err != nil {
			return false
		}
		pos += int(res.Len)
	}
	return true
}

func (d *disPrinter) print(res *pickledis.Result, start, frame int) {
	if d.json {
		ops := make([]map[string]any, 0, len(res.Lines))
		for _, l := range res.Lines {
			m := map[string]any{"offset": l.Offset, "code": l.CodeRepr(), "name": l.Name, "level": l.Level}
			if l.HasArg {
				m["arg"] = l.ArgRepr()
				m["value"] = pyrepr.JSON(l.Arg)
			}
			if l.Note != "" {
				m["note"] = l.Note
			}
			ops = append(ops, m)
		}
		obj := map[string]any{"offset": start, "len": res.Len, "ops": ops, "highest_protocol": res.MaxProto}
		if frame >= 0 {
			obj["frame"] = frame
		}
		if res.Err != nil {
			obj["error"] = res.Err.Error()
		}
		enc := json.NewEncoder(d.out)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(obj)
		return
	}
	if d.count > 0 && frame < 0 {
		fmt.Fprintln(d.out)
	}
	d.count++
	_ = res.Format(d.out)
}

// frames walks a capture of frames: each payload is disassembled on its
// own, with offsets inside the payload (as pickletools.dis(payload)).
func (d *disPrinter) frames(data []byte, stderr io.Writer) int {
	ok := true
	n := 0
	for pos := 0; pos < len(data); {
		hdr := pos
		size, k, err := connection.ParseHeader(data[pos:])
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			fmt.Fprintf(stderr, "mpcat dis: %d stray bytes at offset %d (a truncated frame header)\n", len(data)-pos, pos)
			return 1
		case err != nil:
			fmt.Fprintf(stderr, "mpcat dis: %v at offset %d\n", err, hdr)
			return 1
		}
		pos += k
		if size > uint64(len(data)-pos) {
			fmt.Fprintf(stderr, "mpcat dis: frame %d at offset %d claims %d bytes, only %d remain\n", n, hdr, size, len(data)-pos)
			return 1
		}
		payload := data[pos : pos+int(size)]
		pos += int(size)
		if !d.json {
			if n > 0 {
				fmt.Fprintln(d.out)
			}
			fmt.Fprintf(d.out, "# frame %d at offset %d: %d bytes\n", n, hdr, size)
		}
		if size == 0 {
			if d.json {
				_ = json.NewEncoder(d.out).Encode(map[string]any{"frame": n, "offset": 0, "len": 0, "ops": []any{}, "error": "empty frame"})
			} else {
				fmt.Fprintln(d.out, "error: empty frame")
			}
			ok = false
		} else if !d.pickles(payload, 0, n) {
			ok = false
		}
		n++
	}
	if ok {
		return 0
	}
	return 1
}
