package process

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// forkMarker is the argument that marks a spawned child's command line
// (multiprocessing.spawn.is_forking looks for it at argv[1]).
const forkMarker = "--multiprocessing-fork"

// spawnMainPrefix starts the -c program of a Python spawn child.
const spawnMainPrefix = "from multiprocessing.spawn import spawn_main; spawn_main("

// spawnArgs are the keyword arguments of spawn_main on POSIX.
type spawnArgs struct {
	PipeHandle int // fd the parent writes the two pickles to
	TrackerFD  int // resource tracker pipe (write end), -1 for None
}

// IsChild reports whether argv (normally os.Args) is the command line of a
// spawned child: forkMarker anywhere after argv[0]. It does not touch any
// file descriptor.
func IsChild(argv []string) bool {
	for _, a := range argv[min(1, len(argv)):] {
		if a == forkMarker {
			return true
		}
	}
	return false
}

var spawnMainKw = regexp.MustCompile(`^\s*([a-z_]+)\s*=\s*(None|[0-9]+)\s*$`)

// parseArgv finds spawn_main's arguments in either command-line form:
//
//	exe [flags] -c 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=6, pipe_handle=13)' --multiprocessing-fork
//	exe [prefix…] --multiprocessing-fork tracker_fd=6 pipe_handle=13
//
// The first is what multiprocessing gives a Python child (and a binary set
// with set_executable); the second is the frozen-executable form that
// mpwire.GoProcess and Start with Spec.Executable use.
func parseArgv(argv []string) (spawnArgs, error) {
	sa := spawnArgs{PipeHandle: -1, TrackerFD: -1}
	marker := -1
	for i, a := range argv {
		if i > 0 && a == forkMarker {
			marker = i
			break
		}
	}
	if marker < 0 {
		return sa, fmt.Errorf("%w: %s not in the command line", ErrNotChild, forkMarker)
	}
	var kws []string
	if rest := argv[marker+1:]; len(rest) > 0 && strings.Contains(rest[0], "=") {
		kws = rest
	} else {
		// The -c form: the program is the argument before the marker.
		prog := ""
		for i := marker - 1; i >= 1; i-- {
			if strings.HasPrefix(argv[i], spawnMainPrefix) && argv[i-1] == "-c" {
				prog = argv[i]
				break
			}
		}
		if prog == "" || !strings.HasSuffix(prog, ")") {
			return sa, fmt.Errorf("%w: no spawn_main(...) program and no key=value arguments after %s", ErrNotChild, forkMarker)
		}
		inner := strings.TrimSuffix(strings.TrimPrefix(prog, spawnMainPrefix), ")")
		if strings.TrimSpace(inner) != "" {
			kws = strings.Split(inner, ",")
		}
	}
	seen := map[string]bool{}
	for _, kw := range kws {
		m := spawnMainKw.FindStringSubmatch(kw)
		if m == nil {
			return sa, fmt.Errorf("%w: bad spawn argument %q", ErrNotChild, kw)
		}
		name, val := m[1], m[2]
		if seen[name] {
			return sa, fmt.Errorf("%w: spawn argument %s given twice", ErrNotChild, name)
		}
		seen[name] = true
		n := -1
		if val != "None" {
			v, err := strconv.ParseInt(val, 10, 32)
			if err != nil {
				return sa, fmt.Errorf("%w: bad spawn argument %q", ErrNotChild, kw)
			}
			n = int(v)
		}
		switch name {
		case "pipe_handle":
			sa.PipeHandle = n
		case "tracker_fd":
			sa.TrackerFD = n
		case "parent_pid": // Windows only; accepted and ignored as spawn_main does on POSIX
		default:
			return sa, fmt.Errorf("%w: unknown spawn argument %q", ErrNotChild, name)
		}
	}
	if sa.PipeHandle < 0 {
		return sa, fmt.Errorf("%w: pipe_handle missing", ErrNotChild)
	}
	return sa, nil
}

// pythonArgv is the command line multiprocessing.spawn.get_command_line
// builds for a Python child (non-frozen): exe, interpreter flags, the
// spawn_main program and the marker. trackerFD < 0 is passed as None.
func pythonArgv(exe string, flags []string, trackerFD, pipeHandle int) []string {
	argv := append([]string{exe}, flags...)
	return append(argv, "-c", spawnMainPrefix+"tracker_fd="+pyIntOrNone(trackerFD)+
		", pipe_handle="+strconv.Itoa(pipeHandle)+")", forkMarker)
}

// workerArgv is the frozen-executable form (see mpwire.GoProcess).
func workerArgv(prefix []string, trackerFD, pipeHandle int) []string {
	argv := append([]string(nil), prefix...)
	return append(argv, forkMarker, "tracker_fd="+pyIntOrNone(trackerFD), "pipe_handle="+strconv.Itoa(pipeHandle))
}

func pyIntOrNone(n int) string {
	if n < 0 {
		return "None"
	}
	return strconv.Itoa(n)
}
