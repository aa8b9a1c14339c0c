package pyharness_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// Start a Python peer with a deadline and read what it prints.
func ExampleStart() {
	py, err := pyharness.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	proc, err := pyharness.Start(ctx, pyharness.Cmd{
		Python: py,
		Args:   []string{"-c", "import multiprocessing; print(multiprocessing.get_context('spawn').get_start_method())"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	line, err := proc.ReadLine(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.TrimSpace(line), proc.Wait())
	// Output: spawn <nil>
}
