package pyharness

import "syscall"

// groupAttr starts a fixture in its own process group, killed by the
// kernel if the test process dies first.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
