package localgw_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/analyst-dev/analyst/internal/localgw"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
)

// TestKernelGatewayBanner starts each Kernel Gateway of ../shared/gateways
// and checks the line that names it: Kernel Gateway's own version (GET /api
// gives that of the server underneath) and the server it runs on.
func TestKernelGatewayBanner(t *testing.T) {
	gws := gatewaysDir(t)
	tests := []struct {
		kind string
		want string
	}{
		{"kg3", `^local Jupyter Kernel Gateway 3\.0\.1 \(jupyter_server 2\.\d+\.\d+\) on 127\.0\.0\.1:\d+, stopped on exit$`},
		{"kg2", `^local Jupyter Kernel Gateway 2\.5\.2 \(notebook 6\.\d+\.\d+\) on 127\.0\.0\.1:\d+, stopped on exit$`},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			g, err := localgw.Start(context.Background(), localgw.Options{
				Workdir:       t.TempDir(),
				KernelGateway: filepath.Join(gws, tt.kind, "run"),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Stop()
			if g.Kind != "Jupyter Kernel Gateway" || !regexp.MustCompile(tt.want).MatchString(g.Describe()) {
				t.Errorf("Kind %q, Describe() = %q, want a match for %s", g.Kind, g.Describe(), tt.want)
			}
		})
	}
}

// gatewaysDir returns the directory of the Kernel Gateways in
// ../shared/gateways, skipping the test in -short mode or where they are
// missing (failing it under CI=true).
func gatewaysDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real Kernel Gateways")
	}
	gws, err := jupytertest.GatewaysDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return gws
}
