package process

import (
	"fmt"
	"os"
	"os/exec"
)

// Python returns the interpreter a Go program starts Python children with
// when it names none (Spec.Python empty, StartResourceTracker("")): the
// program in the environment variable MPWIRE_PYTHON if it is set, else
// python3 found in PATH. It only locates the program; CPython 3.8 or newer
// is required.
func Python() (string, error) {
	name := os.Getenv("MPWIRE_PYTHON")
	if name == "" {
		name = "python3"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("process: no Python interpreter (MPWIRE_PYTHON, or python3 in PATH): %w", err)
	}
	return path, nil
}
