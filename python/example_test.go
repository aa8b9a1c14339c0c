package python_test

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/mpwire/mpwire/python"
)

// WriteDir writes the Python package's source tree, which pip installs
// offline ("pip install DIR") or Python imports from PYTHONPATH.
func ExampleWriteDir() {
	dir, err := os.MkdirTemp("", "vendor-py-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := python.WriteDir(dir); err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"pyproject.toml", "mpwire/__init__.py", "_build/mpwire_build.py"} {
		_, err := os.Stat(filepath.Join(dir, name))
		fmt.Println(name, err == nil)
	}
	// Output:
	// pyproject.toml true
	// mpwire/__init__.py true
	// _build/mpwire_build.py true
}

// A Go program that starts a Python parent of Go workers puts the package
// on the parent's PYTHONPATH.
func ExampleDir() {
	pkg, err := python.Dir() // written once under the user cache directory
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command("python3", "parent.py") // parent.py: import mpwire; mpwire.GoProcess("./worker", ...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pkg)
	_, err = os.Stat(filepath.Join(pkg, "mpwire", "__init__.py"))
	fmt.Println(err == nil) // cmd.Run() would start parent.py, which imports mpwire from pkg
	// Output: true
}
