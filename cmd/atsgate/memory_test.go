package main

import (
	"runtime/debug"
	"testing"
)

// TestMemoryLimit: serve sets its soft memory limit when the operator set
// none, and leaves the operator's GOMEMLIMIT alone.
func TestMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == "GOMEMLIMIT" {
				return v
			}
			return ""
		}
	}

	setMemoryLimit(env(""))
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("without GOMEMLIMIT: limit %d, want %d", got, defaultMemoryLimit)
	}

	debug.SetMemoryLimit(123 << 20) // what the runtime read from GOMEMLIMIT
	setMemoryLimit(env("123MiB"))
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Errorf("with GOMEMLIMIT set: limit %d, want the runtime's %d", got, 123<<20)
	}
}
