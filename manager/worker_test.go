package manager_test

import (
	"context"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/process"
)

// workerRole is the Go child of the spawn tests (the test binary started
// by mpwire.GoProcess or process.Start): it applies the seed program's
// f(d, l) to the proxies it receives.
func workerRole(ctx context.Context, child *process.ChildProcess) error {
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
}
