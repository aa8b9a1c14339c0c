// Package testworker lets a test binary double as the Go worker of its own
// interop tests: started by a spawn parent (mpwire.GoProcess in Python, or
// process.Start with Spec.Executable), the binary plays the role the parent
// names in kwargs["role"] instead of running the tests. It is the one copy
// of that TestMain block.
package testworker

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/mpwire/mpwire/process"
)

// Role is what a worker does with its spawn payload. ctx is the child's
// Context bounded by the limit given to Serve.
type Role func(ctx context.Context, child *process.ChildProcess) error

// Roles maps kwargs["role"] to its Role; the key "" is the role of a parent
// that names none.
type Roles map[string]Role

// payloadTimeout bounds reading the spawn payload.
const payloadTimeout = 30 * time.Second

// Main is the TestMain of a package whose tests start the test binary as a
// Go worker: a spawn child plays its role (bounded by 2 minutes) and exits
// the way a Python child does; otherwise the tests run.
func Main(m *testing.M, roles Roles) {
	Serve(roles, 2*time.Minute)
	os.Exit(m.Run())
}

// Serve returns at once unless this process was started as a spawn child
// (process.IsChild); then it reads the payload, runs the role named in
// kwargs["role"] under ChildProcess.Run with its context bounded by limit,
// and never returns. A payload that cannot be read exits with status 101.
func Serve(roles Roles, limit time.Duration) {
	if !process.IsChild(os.Args) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), payloadTimeout)
	child, err := process.Child(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(101)
	}
	name := ""
	if v, ok := child.Kwarg("role"); ok {
		name = fmt.Sprint(v)
	}
	child.Run(func(pctx context.Context) error {
		role, ok := roles[name]
		if !ok {
			return fmt.Errorf("unknown role %q", name)
		}
		ctx, cancel := context.WithTimeout(pctx, limit)
		defer cancel()
		return role(ctx, child)
	})
}
