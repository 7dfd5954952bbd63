package main

import "runtime/debug"

// defaultMemoryLimit is serve's soft limit on the Go runtime's memory when
// the operator sets no GOMEMLIMIT. The collector runs more often as the
// heap nears it instead of letting the heap double between collections:
// make load's runs peaked at up to 104 MiB of RSS without it and at 85 MiB
// with it, and a 10 s list run alone at 98 MB and 82 MB, for the same CPU
// per request (SPEC section 10 asks for 100 MB). It is soft: a process that needs more memory still gets it,
// with the collector's CPU capped by the runtime.
const defaultMemoryLimit = 64 << 20

// setMemoryLimit applies defaultMemoryLimit unless GOMEMLIMIT is set, in
// which case the runtime has already applied the operator's value.
func setMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
