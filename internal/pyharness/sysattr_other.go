//go:build unix && !linux

package pyharness

import "syscall"

// groupAttr starts a fixture in its own process group (macOS has no
// parent-death signal: Start's context and the test's cleanup kill it).
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
