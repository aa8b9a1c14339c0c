package mpwire_test

import (
	"bufio"
	"context"
	"fmt"
	"go/format"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// The README's code is checked by TestREADME: every ```go block is gofmt'ed
// and compiles (go vet) against this checkout from a module outside it, as a
// user's would; blocks marked with an HTML comment just above the fence run:
//
//	<!-- readme-test: SCENARIO go-worker NAME -->  build the Go program as ./NAME
//	<!-- readme-test: SCENARIO go-run [want=TEXT] -->  run it (a fragment runs inside main, with ctx)
//	<!-- readme-test: SCENARIO python [want=TEXT] -->  run the Python code (the mpwire package importable)
//	<!-- readme-test: SCENARIO file PATH -->  write the block to PATH first
//	<!-- readme-test: SCENARIO sh -->  run it with bash (all sh blocks of a scenario as one script)
//	<!-- readme-test: same-as PATH -->  the block is the repository file PATH
//
// Each scenario runs in its own directory, which also holds "mpwire", a link
// to this checkout; want= is text the output must contain. A scenario must
// exit 0, and a shared memory segment whose name it prints must be gone
// when it ends. TestNewcomer runs the scenario "newcomer".

type readmeBlock struct {
	lang, text string
	line       int
	marks      []readmeMark
}

type readmeMark struct {
	scenario, role, arg, want string
}

var markRE = regexp.MustCompile(`^<!-- readme-test: (.*) -->$`)

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks  []readmeBlock
		pending []readmeMark
		cur     *readmeBlock
		body    []string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if cur != nil {
			if line == "```" {
				cur.text = strings.Join(body, "\n") + "\n"
				blocks = append(blocks, *cur)
				cur, body = nil, nil
			} else {
				body = append(body, line)
			}
			continue
		}
		if m := markRE.FindStringSubmatch(line); m != nil {
			pending = append(pending, parseMark(t, n, m[1]))
			continue
		}
		if strings.HasPrefix(line, "```") {
			cur = &readmeBlock{lang: strings.TrimPrefix(line, "```"), line: n + 1, marks: pending}
		} else if len(pending) > 0 {
			t.Fatalf("README.md:%d: readme-test markers not followed by a code block", n)
		}
		pending = nil
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("README.md:%d: unterminated code block", cur.line)
	}
	return blocks
}

func parseMark(t *testing.T, line int, s string) readmeMark {
	var m readmeMark
	if i := strings.Index(s, "want="); i >= 0 {
		m.want, s = strings.TrimSpace(s[i+len("want="):]), s[:i]
	}
	f := strings.Fields(s)
	switch {
	case len(f) == 2 && f[0] == "same-as":
		m.role, m.arg = f[0], f[1]
	case len(f) == 3 && (f[1] == "go-worker" || f[1] == "file"):
		m.scenario, m.role, m.arg = f[0], f[1], f[2]
	case len(f) == 2 && (f[1] == "go-run" || f[1] == "python" || f[1] == "sh"):
		m.scenario, m.role = f[0], f[1]
	default:
		t.Fatalf("README.md:%d: bad readme-test marker %q", line, s)
	}
	return m
}

// goSource makes a compilable main package of a README Go block: a whole
// program as it is; top-level declarations with package main and their
// imports; statements inside func main, after a ctx with a deadline.
func goSource(b readmeBlock) (src string, fragment bool) {
	text := b.text
	if strings.HasPrefix(text, "package ") {
		return text, false
	}
	fragment = !strings.HasPrefix(text, "func ") && !strings.HasPrefix(text, "type ") && !strings.HasPrefix(text, "var ")
	body := text
	if fragment {
		body = "func main() {\n\tctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)\n\tdefer cancel()\n\t_ = ctx\n" +
			indent(text) + "}\n"
	}
	return "package main\n\nimport (\n" + importsFor(body) + ")\n\n" + body, fragment
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString("\t")
		}
		b.WriteString(l)
	}
	return b.String()
}

// knownImports are the packages README blocks may use without importing.
var knownImports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "log": "log", "os": "os", "time": "time",
	"strings": "strings", "slog": "log/slog", "mpwire": "github.com/mpwire/mpwire",
	"pickle": "github.com/mpwire/mpwire/pickle", "connection": "github.com/mpwire/mpwire/connection",
	"listener": "github.com/mpwire/mpwire/listener", "synchronize": "github.com/mpwire/mpwire/synchronize",
	"process": "github.com/mpwire/mpwire/process", "queue": "github.com/mpwire/mpwire/queue",
	"manager": "github.com/mpwire/mpwire/manager", "server": "github.com/mpwire/mpwire/manager/server",
	"sharedmem": "github.com/mpwire/mpwire/sharedmem", "pool": "github.com/mpwire/mpwire/pool",
	"python": "github.com/mpwire/mpwire/python",
}

// importsFor lists the known packages src refers to as pkg.Name (comments
// and strings do not count).
func importsFor(src string) string {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(src)), []byte(src), nil, 0)
	used := map[string]bool{}
	var prev string
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.PERIOD && knownImports[prev] != "" {
			used[prev] = true
		}
		prev = ""
		if tok == token.IDENT {
			prev = lit
		}
	}
	var paths []string
	for name := range used {
		paths = append(paths, knownImports[name])
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "\t%q\n", p)
	}
	return b.String()
}

// gofmtBlock returns the block as gofmt would write it (a fragment
// formatted inside a function, then unindented).
func gofmtBlock(b readmeBlock) (string, error) {
	if _, fragment := goSource(b); !fragment {
		if strings.HasPrefix(b.text, "package ") {
			out, err := format.Source([]byte(b.text))
			return string(out), err
		}
		out, err := format.Source([]byte("package main\n\n" + b.text))
		return strings.TrimPrefix(string(out), "package main\n\n"), err
	}
	out, err := format.Source([]byte("package main\n\nfunc main() {\n" + indent(b.text) + "}\n"))
	if err != nil {
		return "", err
	}
	s := strings.TrimPrefix(string(out), "package main\n\nfunc main() {\n")
	s = strings.TrimSuffix(s, "}\n")
	var res strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		res.WriteString(strings.TrimPrefix(l, "\t"))
	}
	return res.String(), nil
}

// outsideModule writes a module example.com/readme in dir that requires
// this checkout through a replace directive, as a user's module does
// before mpwire is published.
func outsideModule(t *testing.T, dir string) {
	t.Helper()
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/readme\n\ngo 1.23\n\nrequire github.com/mpwire/mpwire v0.0.0-00010101000000-000000000000\n\n" +
		"replace github.com/mpwire/mpwire => " + root + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
}

// goEnv is the environment of the go commands the tests run: module
// mode may update go.mod (the outside module starts with a bare require).
func goEnv() []string {
	return append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"))
}

func goCmd(t *testing.T, ctx context.Context, dir string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, goEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestREADME(t *testing.T) {
	blocks := readmeBlocks(t)
	var goBlocks []int
	for i, b := range blocks {
		for _, m := range b.marks {
			if m.role == "same-as" {
				want, err := os.ReadFile(m.arg)
				if err != nil {
					t.Fatal(err)
				}
				if b.text != string(want) {
					t.Errorf("README.md:%d: the block differs from %s; copy one over the other", b.line, m.arg)
				}
			}
		}
		if b.lang == "python" && len(b.marks) == 0 {
			t.Errorf("README.md:%d: a Python block no scenario runs (add a readme-test marker)", b.line)
		}
		if b.lang != "go" {
			continue
		}
		goBlocks = append(goBlocks, i)
		formatted, err := gofmtBlock(b)
		if err != nil {
			t.Errorf("README.md:%d: does not parse: %v\n%s", b.line, err, b.text)
		} else if formatted != b.text {
			t.Errorf("README.md:%d: not gofmt'ed; gofmt gives:\n%s", b.line, formatted)
		}
	}
	if len(goBlocks) < 10 {
		t.Fatalf("only %d Go blocks found in README.md", len(goBlocks))
	}

	// Compile every Go block from a module outside the checkout.
	ctx := pyharness.Context(t, 10*time.Minute)
	mod := t.TempDir()
	outsideModule(t, mod)
	pkgOf := map[int]string{}
	for _, i := range goBlocks {
		src, _ := goSource(blocks[i])
		pkg := fmt.Sprintf("b%03d", blocks[i].line)
		pkgOf[i] = pkg
		if err := os.MkdirAll(filepath.Join(mod, pkg), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, pkg, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(ctx, "go", "vet", "./...")
	cmd.Dir, cmd.Env = mod, goEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		// Name the README lines: the package directories are bLINE.
		t.Fatalf("go vet of the README's Go blocks (directory bNNN = README.md line NNN): %v\n%s", err, out)
	}

	py := pyharness.DefaultT(t)
	for _, name := range scenarioNames(blocks) {
		if name == "newcomer" {
			continue // TestNewcomer
		}
		t.Run(name, func(t *testing.T) {
			runScenario(t, ctx, py, blocks, name, func(i int, bin string) {
				goCmd(t, ctx, mod, "build", "-o", bin, "./"+pkgOf[i])
			})
		})
	}
}

func scenarioNames(blocks []readmeBlock) []string {
	var names []string
	seen := map[string]bool{}
	for _, b := range blocks {
		for _, m := range b.marks {
			if m.scenario != "" && !seen[m.scenario] {
				seen[m.scenario] = true
				names = append(names, m.scenario)
			}
		}
	}
	return names
}

// runScenario writes the scenario's files, builds its Go blocks with build
// (block index, output path), then runs its go-run, python and sh blocks in
// README order.
func runScenario(t *testing.T, ctx context.Context, py pyharness.Interpreter, blocks []readmeBlock, name string, build func(int, string)) {
	dir := t.TempDir()
	root, _ := filepath.Abs(".")
	if err := os.Symlink(root, filepath.Join(dir, "mpwire")); err != nil {
		t.Fatal(err)
	}
	// python3 on PATH is the test's interpreter (the sh blocks call it).
	bin := t.TempDir()
	if err := os.Symlink(py.Path, filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	env := []string{"MPWIRE_PYTHON=" + py.Path, "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1", "PIP_FIND_LINKS="}
	type step struct {
		b readmeBlock
		m readmeMark
		i int
	}
	var runs []step
	var script []string
	for i, b := range blocks {
		for _, m := range b.marks {
			if m.scenario != name {
				continue
			}
			switch m.role {
			case "file":
				p := filepath.Join(dir, filepath.FromSlash(m.arg))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(b.text), 0o644); err != nil {
					t.Fatal(err)
				}
			case "go-worker":
				build(i, filepath.Join(dir, m.arg))
			case "sh":
				script = append(script, b.text)
			default:
				runs = append(runs, step{b, m, i})
			}
		}
	}
	var outputs []string
	for _, s := range runs {
		c := pyharness.Cmd{Python: py, Dir: dir, Env: env}
		switch s.m.role {
		case "python":
			c.Args = []string{"-c", s.b.text}
		case "go-run":
			exe := filepath.Join(t.TempDir(), "snippet")
			build(s.i, exe)
			c.Python = pyharness.Interpreter{Path: exe}
		}
		out := pyharness.RunT(t, ctx, c)
		outputs = append(outputs, out)
		if !strings.Contains(out, s.m.want) {
			t.Errorf("README.md:%d: output lacks %q:\n%s", s.b.line, s.m.want, out)
		}
	}
	if len(script) > 0 {
		// As a user's shell: the harness's PYTHONPATH is not there, so the
		// venv imports what pip installed.
		c := pyharness.Cmd{Python: pyharness.Interpreter{Path: "/bin/bash"}, Dir: dir, Env: append(env, "PYTHONPATH="),
			Args: []string{"-euxc", strings.Join(script, "\n")}}
		out := pyharness.RunT(t, ctx, c)
		t.Logf("sh output:\n%s", out)
		// Each sh block's want= appears in the output, in order.
		rest := out
		for _, b := range blocks {
			for _, m := range b.marks {
				if m.scenario != name || m.role != "sh" {
					continue
				}
				i := strings.Index(rest, m.want)
				if i < 0 {
					t.Errorf("README.md:%d: output lacks %q (in order)", b.line, m.want)
					continue
				}
				rest = rest[i+len(m.want):]
			}
		}
	}
	// Shared memory a snippet names in its output must be gone when it ends
	// (other processes on the machine make /dev/shm entries too, so only
	// the named ones can be checked).
	for _, seg := range shmNameRE.FindAllString(strings.Join(outputs, "\n"), -1) {
		if _, err := os.Stat(filepath.Join("/dev/shm", seg)); err == nil {
			os.Remove(filepath.Join("/dev/shm", seg))
			t.Errorf("scenario %s left /dev/shm/%s behind", name, seg)
		}
	}
}

var shmNameRE = regexp.MustCompile(`\bpsm_[0-9a-f]{8}\b`)

// TestNewcomer runs what README.md tells a new user to do ("In your own
// project"): in a fresh directory beside a checkout, go mod init a module
// with the front-page main.go and parent.py, point it at the checkout,
// build the worker, install the Python package in a new venv without an
// index, run the parent; then get the Python package from the Go module
// with mpcat python install.
func TestNewcomer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module and a venv")
	}
	blocks := readmeBlocks(t)
	ctx := pyharness.Context(t, 10*time.Minute)
	py := pyharness.DefaultT(t)
	runScenario(t, ctx, py, blocks, "newcomer", func(int, string) {
		t.Fatal("the newcomer scenario builds with its own commands")
	})
}
