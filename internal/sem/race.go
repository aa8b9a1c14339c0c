//go:build race

package sem

// raceEnabled turns on a Go-visible happens-before edge from Release to
// Acquire (see Sem.hb): the race detector cannot see synchronisation done
// through atomics on memory mapped from a file.
const raceEnabled = true
