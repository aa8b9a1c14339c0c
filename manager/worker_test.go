package manager_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/process"
)

// workerMain is the Go child of the spawn tests (the test binary started
// by mpwire.GoProcess or process.Start): it applies the seed program's f(d, l)
// to the proxies it receives.
func workerMain() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	child, err := process.ChildContext(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(101)
	}
	child.Run(func(context.Context) error {
		dp, err := manager.FromChild(ctx, child, child.Arg(0))
		if err != nil {
			return err
		}
		defer dp.Close()
		lp, err := manager.FromChild(ctx, child, child.Arg(1))
		if err != nil {
			return err
		}
		defer lp.Close()
		d, l := &manager.DictProxy{Proxy: dp}, &manager.ListProxy{Proxy: lp}
		if err := d.Set(ctx, 1, "1"); err != nil {
			return err
		}
		if err := d.Set(ctx, "2", 2); err != nil {
			return err
		}
		return l.Append(ctx, 1)
	})
}
