// Package sysfd holds the descriptor calls whose portable form differs
// between Linux and macOS: close-on-exec pipes, socketpairs and sockets
// (Linux sets the flags atomically with pipe2/SOCK_CLOEXEC; macOS has
// neither, so the flags are set under syscall.ForkLock, as package os and
// package net do), and reopening a pipe as a private open file description
// (Linux's /proc/self/fd; macOS has no equivalent).
package sysfd
