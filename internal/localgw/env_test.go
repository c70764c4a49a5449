package localgw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// Sentinel secrets in the environment of the process that starts the
// gateway: no kernel may see them.
var sentinels = map[string]string{
	"OPENAI_API_KEY":             "sk-SENTINEL-KEY-localgw-7f3a",
	"JUPYTER_GATEWAY_AUTH_TOKEN": "SENTINEL-GATEWAY-TOKEN-51d2",
	"JUPYTER_TOKEN":              "SENTINEL-JUPYTER-TOKEN-c0de",
	"KG_AUTH_TOKEN":              "SENTINEL-KG-TOKEN-9a9a",
	"UNRELATED_SETTING":          "SENTINEL-UNRELATED-77",
}

// envProbe is what a kernel finds when it looks for secrets: its
// environment, its server's, analyst's, and the files of the runtime
// directory it knows from its connection file.
const envProbe = `import os, sys, json, glob
def read(p):
    try:
        return open(p, 'rb').read().decode('latin-1')
    except Exception as e:
        return type(e).__name__
rt = os.path.dirname(sys.argv[sys.argv.index('-f') + 1])
print(json.dumps({
    'env': dict(os.environ),
    'server_environ': read('/proc/%d/environ' % os.getppid()),
    'server_cmdline': read('/proc/%d/cmdline' % os.getppid()),
    'analyst_environ': read('/proc/%d/environ' % ANALYST_PID),
    'runtime': {p: read(p) for p in glob.glob(os.path.join(rt, '*'))},
}))`

type probeResult struct {
	Env            map[string]string `json:"env"`
	AnalystEnviron string            `json:"analyst_environ"`
}

// TestKernelEnvironment starts each kind of local gateway from an
// environment full of secrets and with JUPYTER_GATEWAY_URL set (which would
// put a Jupyter Server in gateway mode, proxying to that URL) and has a
// kernel look everywhere it can: it finds none of the secrets nor the
// gateway's own token, and it does find the variables passed on purpose.
// Kernel Gateway is checked with a start request carrying an environment
// (analyst's) and one without.
func TestKernelEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Jupyter servers")
	}
	for name, value := range sentinels {
		t.Setenv(name, value)
	}
	t.Setenv("JUPYTER_GATEWAY_URL", "http://127.0.0.1:9")
	t.Setenv("ANALYST_TEST_DB_URL", "postgres://db.example/analytics")
	t.Setenv("OMP_NUM_THREADS", "1")
	servers := []struct {
		name       string
		gateway    string // a gateways folder's run script, "" for Jupyter Server
		serverOnly bool
	}{
		{name: "Jupyter Server", serverOnly: true},
		{name: "Kernel Gateway 3", gateway: "kg3"},
		{name: "Kernel Gateway 2", gateway: "kg2"},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			if srv.gateway != "" {
				t.Setenv("PATH", kernelGatewayOnPath(t, srv.gateway)+string(os.PathListSeparator)+os.Getenv("PATH"))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			g := start(t, ctx, Options{Workdir: t.TempDir(), ServerOnly: srv.serverOnly, PassEnv: []string{"ANALYST_TEST_DB_URL"}})
			if want := map[bool]string{true: "Jupyter Server", false: kindKG}[srv.gateway == ""]; g.Kind != want {
				t.Fatalf("started %s, want %s", g.Kind, want)
			}
			c, err := jupyter.NewClient(jupyter.Config{URL: g.URL, Token: g.Token})
			if err != nil {
				t.Fatal(err)
			}
			k, err := c.StartKernel(ctx, jupyter.StartOptions{Name: "python3", Env: map[string]string{"KERNEL_USERNAME": "tester"}})
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{"start with env": k.ID, "start without env": startBare(t, g)}
			for how, id := range ids {
				got, text := probe(t, ctx, c, id)
				for _, secret := range append(mapValues(sentinels), g.Token) {
					if strings.Contains(text, secret) {
						t.Errorf("%s: the kernel sees %q", how, secret)
					}
				}
				for _, name := range []string{"JUPYTER_GATEWAY_URL", "JUPYTER_GATEWAY_AUTH_TOKEN"} {
					if _, ok := got.Env[name]; ok {
						t.Errorf("%s: the kernel's environment has %s", how, name)
					}
				}
				for name, want := range map[string]string{"ANALYST_TEST_DB_URL": "postgres://db.example/analytics", "OMP_NUM_THREADS": "1", "HOME": os.Getenv("HOME")} {
					if got.Env[name] != want {
						t.Errorf("%s: the kernel's %s = %q, want %q", how, name, got.Env[name], want)
					}
				}
				if got.Env["PATH"] == "" {
					t.Errorf("%s: the kernel has no PATH", how)
				}
				// Root's kernels may read any process (CAP_SYS_PTRACE): there
				// only the process's own flag is checked, below.
				if os.Geteuid() != 0 && got.AnalystEnviron != "PermissionError" {
					t.Errorf("%s: reading analyst's /proc/PID/environ gave %.40q, want PermissionError", how, got.AnalystEnviron)
				}
			}
		})
	}
}

// start starts a gateway stopped at the end of the test. Without Jupyter
// the test is skipped, or fails under CI=true.
func start(t *testing.T, ctx context.Context, opts Options) *Gateway {
	t.Helper()
	g, err := Start(ctx, opts)
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop() })
	return g
}

// probe runs envProbe in kernel id and returns what it found and its output.
func probe(t *testing.T, ctx context.Context, c *jupyter.Client, id string) (probeResult, string) {
	t.Helper()
	s, err := c.Connect(ctx, id, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Execute(ctx, strings.Replace(envProbe, "ANALYST_PID", fmt.Sprint(os.Getpid()), 1))
	if err != nil || res.Error != nil {
		t.Fatalf("probe: %v %v", err, res.Error)
	}
	var got probeResult
	if err := json.Unmarshal([]byte(res.Text()), &got); err != nil {
		t.Fatalf("probe output %q: %v", res.Text(), err)
	}
	return got, res.Text()
}

// startBare starts a kernel with a request that carries no environment, as
// other clients of `analyst server` may send, and returns its id.
func startBare(t *testing.T, g *Gateway) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.URL+"/api/kernels", strings.NewReader(`{"name":"python3"}`))
	req.Header.Set("Authorization", "token "+g.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var k struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("start kernel: %s, %v", resp.Status, err)
	}
	return k.ID
}

// kernelGatewayOnPath returns a directory holding a jupyter-kernelgateway
// that runs the Kernel Gateway of the shared gateways folder (kg3 or kg2),
// found beside the repository as in CI.
func kernelGatewayOnPath(t *testing.T, which string) string {
	t.Helper()
	run := ""
	for dir, _ := os.Getwd(); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if p := filepath.Join(dir, "shared", "gateways", which, "run"); fileExists(p) {
			run = p
			break
		}
	}
	if run == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no shared/gateways/%s/run beside the repository", which)
		}
		t.Skipf("no shared/gateways/%s/run beside the repository", which)
	}
	bin := t.TempDir()
	script := "#!/bin/sh\nexec " + run + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "jupyter-kernelgateway"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestServerEnv(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin", "HOME=/home/u", "LANG=C.UTF-8", "LC_ALL=C", "TZ=UTC", "TMPDIR=/tmp/u",
		"PYTHONPATH=/opt/lib", "MPLBACKEND=Agg", "OMP_NUM_THREADS=2", "OPENBLAS_NUM_THREADS=2", "MKL_NUM_THREADS=2",
		"JUPYTER_PATH=/opt/jupyter", "IPYTHONDIR=/home/u/.ipython",
		"OPENAI_API_KEY=sk-x", "OPENAI_BASE_URL=http://llm", "JUPYTER_TOKEN=t", "JUPYTER_GATEWAY_URL=http://gw",
		"JUPYTER_GATEWAY_AUTH_TOKEN=t", "JUPYTER_GATEWAY_HEADERS={}", "KG_AUTH_TOKEN=t", "AWS_SECRET_ACCESS_KEY=s",
		"DATABASE_URL=postgres://db", "KERNEL_USERNAME=u", "PATHOLOGICAL=1", "LANGUAGE_MODEL=x",
	}
	got := serverEnv(environ, []string{"DATABASE_URL"}, []string{"JUPYTER_RUNTIME_DIR=/run/j"})
	want := []string{
		"PATH=/usr/bin", "HOME=/home/u", "LANG=C.UTF-8", "LC_ALL=C", "TZ=UTC", "TMPDIR=/tmp/u",
		"PYTHONPATH=/opt/lib", "MPLBACKEND=Agg", "OMP_NUM_THREADS=2", "OPENBLAS_NUM_THREADS=2", "MKL_NUM_THREADS=2",
		"JUPYTER_PATH=/opt/jupyter", "IPYTHONDIR=/home/u/.ipython",
		"DATABASE_URL=postgres://db", "JUPYTER_RUNTIME_DIR=/run/j",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("serverEnv =\n%q\nwant\n%q", got, want)
	}
}
