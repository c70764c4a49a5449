package jupytertest

import (
	_ "embed"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// clashLauncher starts an ipykernel whose IOPub port is already taken, the
// first time only: see AddPortClashSpec.
//
//go:embed clash.py
var clashLauncher []byte

// AddPortClashSpec adds a kernel spec called name to the server. The first
// kernel started from it finds its IOPub port taken when it binds it, as
// when another process took the port between the server choosing it and the
// kernel binding it: Debian's ipykernel 6 then fails at start and its
// process hangs at exit, so that the kernel never answers while the server
// counts it alive. Later kernels of the spec are ordinary ipykernels. The
// server reads specs when asked for one, so the spec can be added while it
// runs.
func (s *Server) AddPortClashSpec(tb testing.TB, name string) {
	tb.Helper()
	dir := filepath.Join(s.dataDir, "kernels", name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	launcher := filepath.Join(dir, "clash.py")
	if err := os.WriteFile(launcher, clashLauncher, 0o600); err != nil {
		tb.Fatal(err)
	}
	spec, err := json.Marshal(map[string]any{
		"argv":         []string{Python, launcher, "{connection_file}", filepath.Join(dir, "clashed")},
		"display_name": name,
		"language":     "python",
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kernel.json"), spec, 0o600); err != nil {
		tb.Fatal(err)
	}
}
