package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// runHostile times decoding an amplification bomb made by CPython: the
// pickle of {t: 1} with t = (); t = (t, t) 26 times (121 bytes). CPython's
// tuple hash walks all 2^26 tuples; mpwire hashes each distinct tuple once
// (it used to walk them all too: 4.3 s and 1.1 GB RSS here). gopickle and og-rek
// are not measured: they walk all 2^26 as well.
func runHostile(r *runner) error {
	dir := filepath.Join(r.tmp, "hostile")
	const name = "tuple_bomb_26"
	file := filepath.Join(dir, name+".pickle")
	if _, err := os.Stat(file); err != nil {
		if _, err := r.runPy(pyharness.Cmd{Python: r.cfg.Python, Script: "pickle_bench.py", Args: []string{"hostile", dir}}); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	// No warm-up rounds: they would load the bomb three more times
	// (seconds each) to warm an allocator this case does not stress.
	if err := r.cpythonPickle(dir, name, 0); err != nil {
		return err
	}
	k := "hostile/" + name + "/mpwire/decode"
	ns, err := r.measure(decodeN(data))
	if err != nil {
		return fmt.Errorf("mpwire decode %s: %w", name, err)
	}
	r.add(k, ns)
	r.compare(comparison{Case: "hostile decode", Workload: "tuple-key bomb {t: 1}, t = (t, t) ×26, " + strconv.Itoa(len(data)) + " B",
		Subject: "mpwire", SubjectKey: k, Baseline: "CPython C pickle.loads", BaseKey: "pickle/" + name + "/cpython/loads", Goal: 1.0})
	r.note("hostile: CPython's tuple hash walks all 2^26 tuples of the key; mpwire hashes each of the 26 distinct tuples once (before issue 17 it also walked 2^26: 4.3 s and 1.1 GB RSS here).")
	return nil
}
