// Package pylit parses Python literals — what you would type at a Python
// prompt to build plain data — into the generic values of package pickle,
// so that mpcat can send them.
//
// Accepted: None, True, False; ints of any size in decimal, hex, octal and
// binary, with underscores and a sign; floats (1.5, 1e-3, .5, 5.) and
// float('inf'), float('-inf'), float('nan'); str and bytes literals with
// every prefix (r, u, b, rb, br, in any case), single, double and
// triple quotes, all of Python's escapes except \N{...}, and adjacent
// literals concatenated; lists, tuples (including (x,) and ()), dicts, sets,
// and the calls set(), frozenset(), bytearray(), tuple(), list(), dict()
// with zero or one iterable argument (dict() also with key=value
// arguments); at the top level, a bare tuple (1, 'a' or 1,). Nesting is
// limited to MaxDepth.
package pylit

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mpwire/mpwire/cmd/mpcat/internal/pyrepr"
	"github.com/mpwire/mpwire/internal/pyiter"
	"github.com/mpwire/mpwire/internal/pystr"
	"github.com/mpwire/mpwire/pickle"
)

// MaxDepth bounds the nesting of containers in one literal.
const MaxDepth = 1000

// MaxIntDigits bounds the digits of an integer literal, as CPython's
// sys.get_int_max_str_digits() does for decimal ones.
const MaxIntDigits = 4300

// SyntaxError reports where a literal is malformed.
type SyntaxError struct {
	Offset int // byte offset in the input
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("column %d: %s", e.Offset+1, e.Msg)
}

// ErrSyntax is wrapped by every parse error (errors.Is(err, ErrSyntax)).
var ErrSyntax = errors.New("invalid Python literal")

func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Parse parses one Python literal (surrounding whitespace allowed).
func Parse(s string) (any, error) {
	p := &parser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.peek() == ',' {
		// A bare tuple, as Python reads "1, 2" (and "1,").
		items := pickle.Tuple{v}
		for p.eat(',') {
			if p.space(); p.i >= len(p.s) {
				break
			}
			x, err := p.value(0)
			if err != nil {
				return nil, err
			}
			items = append(items, x)
		}
		v = items
		p.space()
	}
	if p.i < len(p.s) {
		return nil, p.errf("unexpected %q after the value", p.rest(10))
	}
	return v, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) errf(format string, a ...any) error {
	return &SyntaxError{Offset: p.i, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) rest(n int) string {
	r := p.s[p.i:]
	if len(r) > n {
		r = r[:n] + "…"
	}
	return r
}

func (p *parser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) eat(c byte) bool {
	p.space()
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *parser) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, p.errf("nested deeper than %d", MaxDepth)
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, p.errf("expected a value, found the end of the line")
	}
	c := p.s[p.i]
	switch {
	case c == '[':
		p.i++
		items, _, err := p.seq(']', depth)
		if err != nil {
			return nil, err
		}
		return items, nil
	case c == '(':
		p.i++
		items, comma, err := p.seq(')', depth)
		if err != nil {
			return nil, err
		}
		if len(items) == 1 && !comma {
			return items[0], nil // a parenthesized expression
		}
		return pickle.Tuple(items), nil
	case c == '{':
		p.i++
		return p.braces(depth)
	case c == '\'' || c == '"':
		return p.strings()
	case c == '-' || c == '+':
		p.i++
		p.space()
		start := p.i
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if c == '+' {
			switch v.(type) {
			case int64, *big.Int, float64, bool:
				return plusNumber(v), nil
			}
			p.i = start
			return nil, p.errf("bad operand for unary +")
		}
		n, ok := negate(v)
		if !ok {
			p.i = start
			return nil, p.errf("bad operand for unary -")
		}
		return n, nil
	case c >= '0' && c <= '9' || c == '.':
		return p.number()
	case isIdent(c):
		start := p.i
		for p.i < len(p.s) && isIdent(p.s[p.i]) {
			p.i++
		}
		word := p.s[start:p.i]
		if p.peek() == '\'' || p.peek() == '"' {
			if _, ok := prefixes[strings.ToLower(word)]; ok {
				p.i = start
				return p.strings()
			}
		}
		switch word {
		case "None":
			return nil, nil
		case "True":
			return true, nil
		case "False":
			return false, nil
		}
		p.space()
		if p.peek() == '(' {
			p.i++
			return p.call(word, start, depth)
		}
		p.i = start
		return nil, p.errf("unknown name %q (only literals, not variables, can be sent)", word)
	}
	return nil, p.errf("unexpected %q", p.rest(10))
}

func plusNumber(v any) any {
	if b, ok := v.(bool); ok { // +True == 1
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

func negate(v any) (any, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(-1), true
		}
		return int64(0), true
	case int64:
		if x == math.MinInt64 {
			return new(big.Int).Neg(big.NewInt(x)), true
		}
		return -x, true
	case *big.Int:
		return normInt(new(big.Int).Neg(x)), true
	case float64:
		return -x, true
	}
	return nil, false
}

func normInt(b *big.Int) any {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

// seq parses comma-separated values up to close; comma reports whether a
// comma was seen (to tell (x) from (x,)).
func (p *parser) seq(close byte, depth int) ([]any, bool, error) {
	items := []any{}
	comma := false
	for {
		if p.eat(close) {
			return items, comma, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, false, err
		}
		items = append(items, v)
		if p.eat(',') {
			comma = true
			continue
		}
		if p.eat(close) {
			return items, comma, nil
		}
		return nil, false, p.errf("expected ',' or %q, found %q", close, p.rest(10))
	}
}

func (p *parser) braces(depth int) (any, error) {
	if p.eat('}') {
		return pickle.NewDict(), nil
	}
	first, err := p.value(depth + 1)
	if err != nil {
		return nil, err
	}
	if p.eat(':') {
		d := pickle.NewDict()
		k := first
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, v); err != nil {
				return nil, p.errf("dict key %s: %v", pyrepr.Repr(k), err)
			}
			if p.eat(',') {
				if p.eat('}') {
					return d, nil
				}
			} else if p.eat('}') {
				return d, nil
			} else {
				return nil, p.errf("expected ',' or '}', found %q", p.rest(10))
			}
			if k, err = p.value(depth + 1); err != nil {
				return nil, err
			}
			if !p.eat(':') {
				return nil, p.errf("expected ':' in a dict, found %q", p.rest(10))
			}
		}
	}
	items := []any{first}
	if p.eat(',') {
		more, _, err := p.seq('}', depth)
		if err != nil {
			return nil, err
		}
		items = append(items, more...)
	} else if !p.eat('}') {
		return nil, p.errf("expected ',', ':' or '}', found %q", p.rest(10))
	}
	s := &pickle.Set{}
	for _, it := range items {
		if err := s.Add(it); err != nil {
			return nil, p.errf("set element %s: %v", pyrepr.Repr(it), err)
		}
	}
	return s, nil
}

func (p *parser) call(name string, start, depth int) (any, error) {
	argStart := p.i
	var arg any
	hasArg := false
	var kw [][2]any
	for !p.eat(')') {
		p.space()
		// key=value (dict() only)
		j := p.i
		for j < len(p.s) && isIdent(p.s[j]) {
			j++
		}
		k := j
		for k < len(p.s) && (p.s[k] == ' ' || p.s[k] == '\t') {
			k++
		}
		if name == "dict" && j > p.i && k < len(p.s) && p.s[k] == '=' && (k+1 >= len(p.s) || p.s[k+1] != '=') {
			key := p.s[p.i:j]
			p.i = k + 1
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			kw = append(kw, [2]any{key, v})
		} else {
			if hasArg || kw != nil {
				return nil, p.errf("%s() takes at most one positional argument", name)
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arg, hasArg = v, true
		}
		if !p.eat(',') {
			if p.eat(')') {
				break
			}
			return nil, p.errf("expected ',' or ')', found %q", p.rest(10))
		}
	}
	bad := func(msg string) error {
		return &SyntaxError{Offset: argStart, Msg: name + "(): " + msg}
	}
	items := func() ([]any, error) {
		if !hasArg {
			return []any{}, nil
		}
		xs, ok := pyiter.Items(arg)
		if !ok {
			return nil, bad("argument is not iterable")
		}
		return xs, nil
	}
	if name != "dict" && kw != nil {
		return nil, bad("takes no keyword arguments")
	}
	switch name {
	case "float":
		switch x := arg.(type) {
		case string:
			f, ok := parseFloatString(x)
			if !ok {
				return nil, bad(fmt.Sprintf("could not convert string to float: %s", pyrepr.String(x)))
			}
			return f, nil
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		case nil:
			if !hasArg {
				return 0.0, nil
			}
		}
		return nil, bad("argument must be a string or a number")
	case "int":
		switch x := arg.(type) {
		case string:
			b, ok := new(big.Int).SetString(strings.ReplaceAll(strings.TrimSpace(x), "_", ""), 10)
			if !ok {
				return nil, bad(fmt.Sprintf("invalid literal for int() with base 10: %s", pyrepr.String(x)))
			}
			return normInt(b), nil
		case int64, *big.Int:
			return x, nil
		case nil:
			if !hasArg {
				return int64(0), nil
			}
		}
		return nil, bad("argument must be a string or an int")
	case "set", "frozenset":
		xs, err := items()
		if err != nil {
			return nil, err
		}
		if name == "set" {
			s := &pickle.Set{}
			for _, x := range xs {
				if err := s.Add(x); err != nil {
					return nil, bad(err.Error())
				}
			}
			return s, nil
		}
		fs, err := pickle.NewFrozenSet(xs...)
		if err != nil {
			return nil, bad(err.Error())
		}
		return fs, nil
	case "list":
		xs, err := items()
		if err != nil {
			return nil, err
		}
		return append([]any{}, xs...), nil
	case "tuple":
		xs, err := items()
		if err != nil {
			return nil, err
		}
		return append(pickle.Tuple{}, xs...), nil
	case "bytearray", "bytes":
		var out []byte
		switch x := arg.(type) {
		case []byte:
			out = append([]byte{}, x...)
		case pickle.ByteArray:
			out = append([]byte{}, x...)
		case int64:
			if x < 0 || x > 1<<20 {
				return nil, bad("size out of range (0 to 1 MiB)")
			}
			out = make([]byte, x)
		case nil:
			if hasArg {
				return nil, bad("cannot convert None")
			}
			out = []byte{}
		default:
			xs, ok := pyiter.Items(arg)
			if !ok {
				return nil, bad("argument must be bytes, a size or an iterable of ints")
			}
			if _, isStr := arg.(string); isStr {
				return nil, bad("string argument without an encoding")
			}
			for _, it := range xs {
				n, ok := it.(int64)
				if !ok || n < 0 || n > 255 {
					return nil, bad("bytes must be in range(0, 256)")
				}
				out = append(out, byte(n))
			}
			if out == nil {
				out = []byte{}
			}
		}
		if name == "bytes" {
			return out, nil
		}
		return pickle.ByteArray(out), nil
	case "dict":
		d := pickle.NewDict()
		if hasArg {
			if src, ok := arg.(*pickle.Dict); ok {
				for k, v := range src.All() {
					_ = d.Set(k, v)
				}
			} else {
				xs, ok := pyiter.Items(arg)
				if !ok {
					return nil, bad("argument is not iterable")
				}
				for _, it := range xs {
					pair, ok := pyiter.Items(it)
					if !ok || len(pair) != 2 {
						return nil, bad("sequence elements must be pairs")
					}
					if err := d.Set(pair[0], pair[1]); err != nil {
						return nil, bad(err.Error())
					}
				}
			}
		}
		for _, e := range kw {
			_ = d.Set(e[0], e[1])
		}
		return d, nil
	}
	p.i = start
	return nil, p.errf("unknown function %s() (allowed: set, frozenset, bytearray, bytes, tuple, list, dict, float, int)", name)
}

// parseFloatString is float(str): Python spellings of inf and nan, and
// decimal literals.
func parseFloatString(s string) (float64, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	sign := 1.0
	if strings.HasPrefix(t, "-") {
		sign, t = -1, t[1:]
	} else if strings.HasPrefix(t, "+") {
		t = t[1:]
	}
	switch t {
	case "inf", "infinity":
		return math.Inf(int(sign)), true
	case "nan":
		return math.NaN(), true
	}
	if t == "" || strings.ContainsAny(t, "xXpP") || strings.Contains(t, "__") ||
		strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return sign * f, true // overflow to ±inf / underflow to 0, as Python
		}
		return 0, false
	}
	return sign * f, true
}

func (p *parser) number() (any, error) {
	start := p.i
	s := p.s
	if s[p.i] == '0' && p.i+1 < len(s) && strings.IndexByte("xXoObB", s[p.i+1]) >= 0 {
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[s[p.i+1]|0x20]
		p.i += 2
		ds := p.i
		for p.i < len(s) && (isIdent(s[p.i])) {
			p.i++
		}
		digits := s[ds:p.i]
		if !goodUnderscores(digits, true) {
			return nil, &SyntaxError{Offset: start, Msg: "invalid number " + strconv.Quote(s[start:p.i])}
		}
		digits = strings.ReplaceAll(digits, "_", "")
		if len(digits) > MaxIntDigits*4 {
			return nil, &SyntaxError{Offset: start, Msg: "integer literal too long"}
		}
		b, ok := new(big.Int).SetString(digits, base)
		if !ok || digits == "" {
			return nil, &SyntaxError{Offset: start, Msg: "invalid number " + strconv.Quote(s[start:p.i])}
		}
		return normInt(b), nil
	}
	isFloat := false
	for p.i < len(s) {
		c := s[p.i]
		switch {
		case c >= '0' && c <= '9' || c == '_':
			p.i++
		case c == '.':
			isFloat = true
			p.i++
		case c == 'e' || c == 'E':
			isFloat = true
			p.i++
			if p.i < len(s) && (s[p.i] == '+' || s[p.i] == '-') {
				p.i++
			}
		default:
			goto done
		}
	}
done:
	lit := s[start:p.i]
	if p.i < len(s) && (isIdent(s[p.i])) {
		for p.i < len(s) && isIdent(s[p.i]) {
			p.i++
		}
		return nil, &SyntaxError{Offset: start, Msg: "invalid number " + strconv.Quote(s[start:p.i]) + " (complex numbers are not supported)"}
	}
	bad := &SyntaxError{Offset: start, Msg: "invalid number " + strconv.Quote(lit)}
	if !goodNumberUnderscores(lit) {
		return nil, bad
	}
	clean := strings.ReplaceAll(lit, "_", "")
	if !isFloat {
		if len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
			return nil, &SyntaxError{Offset: start, Msg: "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers"}
		}
		if len(clean) > MaxIntDigits {
			return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("integer literal has more than %d digits (Python's int max str digits)", MaxIntDigits)}
		}
		b, ok := new(big.Int).SetString(clean, 10)
		if !ok {
			return nil, bad
		}
		return normInt(b), nil
	}
	if clean == "." || strings.HasPrefix(clean, ".e") || strings.HasPrefix(clean, ".E") {
		return nil, bad
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil {
		var ne *strconv.NumError
		if !(errors.As(err, &ne) && ne.Err == strconv.ErrRange) {
			return nil, bad
		}
	}
	return f, nil
}

// goodUnderscores: underscores only between digits (after a base prefix,
// one may also follow the prefix directly).
func goodUnderscores(d string, afterPrefix bool) bool {
	if strings.HasSuffix(d, "_") || strings.Contains(d, "__") {
		return false
	}
	if !afterPrefix && strings.HasPrefix(d, "_") {
		return false
	}
	return true
}

func goodNumberUnderscores(lit string) bool {
	if !strings.Contains(lit, "_") {
		return true
	}
	for i := 0; i < len(lit); i++ {
		if lit[i] != '_' {
			continue
		}
		isDigit := func(j int) bool { return j >= 0 && j < len(lit) && lit[j] >= '0' && lit[j] <= '9' }
		if !isDigit(i-1) || !isDigit(i+1) {
			return false
		}
	}
	return true
}

var prefixes = map[string]struct{}{"r": {}, "u": {}, "b": {}, "br": {}, "rb": {}}

// strings parses one or more adjacent string literals; they must all be
// str or all bytes.
func (p *parser) strings() (any, error) {
	var out []byte
	kind := -1 // 0 str, 1 bytes
	for {
		p.space()
		start := p.i
		j := p.i
		for j < len(p.s) && isIdent(p.s[j]) {
			j++
		}
		prefix := strings.ToLower(p.s[p.i:j])
		if j >= len(p.s) || (p.s[j] != '\'' && p.s[j] != '"') {
			break
		}
		if _, ok := prefixes[prefix]; !ok && prefix != "" {
			break
		}
		isBytes := strings.Contains(prefix, "b")
		raw := strings.Contains(prefix, "r")
		k := 0
		if isBytes {
			k = 1
		}
		if kind >= 0 && kind != k {
			p.i = start
			return nil, p.errf("cannot mix bytes and nonbytes literals")
		}
		kind = k
		p.i = j
		var err error
		out, err = p.stringBody(out, isBytes, raw)
		if err != nil {
			return nil, err
		}
	}
	if kind == 1 {
		if out == nil {
			out = []byte{}
		}
		return out, nil
	}
	return string(out), nil
}

func (p *parser) stringBody(out []byte, isBytes, raw bool) ([]byte, error) {
	q := p.s[p.i]
	triple := strings.HasPrefix(p.s[p.i:], strings.Repeat(string(q), 3))
	open := p.i
	if triple {
		p.i += 3
	} else {
		p.i++
	}
	for {
		if p.i >= len(p.s) {
			p.i = open
			return nil, p.errf("unterminated string literal")
		}
		c := p.s[p.i]
		if c == q {
			if !triple {
				p.i++
				return out, nil
			}
			if strings.HasPrefix(p.s[p.i:], strings.Repeat(string(q), 3)) {
				p.i += 3
				return out, nil
			}
		}
		if c == '\n' && !triple {
			p.i = open
			return nil, p.errf("unterminated string literal")
		}
		if c == '\\' {
			if p.i+1 >= len(p.s) {
				p.i = open
				return nil, p.errf("unterminated string literal")
			}
			if raw {
				// A raw string keeps the backslash and the next char (so \' does
				// not end it).
				out = append(out, c)
				p.i++
				if n := p.s[p.i]; n == q || n == '\\' {
					out = append(out, n)
					p.i++
				}
				continue
			}
			var err error
			if out, err = p.escape(out, isBytes); err != nil {
				return nil, err
			}
			continue
		}
		if c >= 0x80 {
			if isBytes {
				return nil, p.errf("bytes can only contain ASCII literal characters")
			}
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && n == 1 {
				return nil, p.errf("invalid UTF-8 in the input")
			}
			out = append(out, p.s[p.i:p.i+n]...)
			p.i += n
			continue
		}
		out = append(out, c)
		p.i++
	}
}

func (p *parser) escape(out []byte, isBytes bool) ([]byte, error) {
	at := p.i
	p.i++ // backslash
	c := p.s[p.i]
	p.i++
	simple := map[byte]byte{'\\': '\\', '\'': '\'', '"': '"', 'a': 7, 'b': 8, 'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11}
	if v, ok := simple[c]; ok {
		return append(out, v), nil
	}
	hexN := func(n int) (uint64, error) {
		if p.i+n > len(p.s) {
			p.i = at
			return 0, p.errf("truncated \\%c escape", c)
		}
		v, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
		if err != nil || strings.ContainsAny(p.s[p.i:p.i+n], "+-_") {
			p.i = at
			return 0, p.errf("truncated \\%c escape", c)
		}
		p.i += n
		return v, nil
	}
	switch {
	case c == '\n':
		return out, nil
	case c >= '0' && c <= '7':
		v := uint32(c - '0')
		for k := 0; k < 2 && p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '7'; k++ {
			v = v*8 + uint32(p.s[p.i]-'0')
			p.i++
		}
		if isBytes {
			return append(out, byte(v)), nil
		}
		return pystr.AppendRune(out, rune(v)), nil
	case c == 'x':
		v, err := hexN(2)
		if err != nil {
			return nil, err
		}
		if isBytes {
			return append(out, byte(v)), nil
		}
		return pystr.AppendRune(out, rune(v)), nil
	case (c == 'u' || c == 'U') && !isBytes:
		n := 4
		if c == 'U' {
			n = 8
		}
		v, err := hexN(n)
		if err != nil {
			return nil, err
		}
		if v > 0x10FFFF {
			p.i = at
			return nil, p.errf("illegal Unicode character in \\U escape")
		}
		return pystr.AppendRune(out, rune(v)), nil
	case c == 'N' && !isBytes:
		p.i = at
		return nil, p.errf("\\N{...} escapes are not supported; use \\u or \\U")
	}
	// Unknown escapes keep the backslash, as Python does (with a warning).
	p.i = at + 1
	return append(out, '\\'), nil
}
