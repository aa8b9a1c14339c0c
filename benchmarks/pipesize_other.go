//go:build !linux

package main

import "errors"

// setPipeSize: only Linux can resize a pipe.
func setPipeSize(fd, size int) (int, error) {
	return 0, errors.New("F_SETPIPE_SZ is Linux-only")
}
