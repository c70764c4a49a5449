package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/jupyter/jupytertest"
)

// TestKernelsCLI drives the kernel commands against a real Jupyter Server:
// an unknown kernel spec lists the ones there are, list --json, a unique
// prefix for rm and exec --kernel-id, completion of ids, and prune --all
// --dry-run.
func TestKernelsCLI(t *testing.T) {
	js := jupytertest.Start(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	ctx := context.Background()
	gw := []string{"--gateway-url", js.URL, "--gateway-token", js.Token}
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, ctx, append(args, gw...)...)
	}

	const noSpec = "analyst: --kernel nosuchkernel: the gateway has no such kernel spec; it has python3 (Python 3 (ipykernel))\n"
	for _, args := range [][]string{{"kernels", "start", "--kernel", "nosuchkernel"}, {"exec", "--kernel", "nosuchkernel", "1"}} {
		if code, out, errs := cli(args...); code != exitUsage || out != "" || errs != noSpec {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, out, errs, noSpec)
		}
	}

	var ids []string
	for range 2 {
		code, out, errs := cli("kernels", "start")
		if code != 0 {
			t.Fatalf("kernels start: exit %d: %s", code, errs)
		}
		ids = append(ids, strings.TrimSpace(out))
	}
	t.Cleanup(func() {
		c, _ := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
		for _, id := range ids {
			c.DeleteKernel(context.Background(), id)
		}
	})

	code, out, _ := cli("kernels", "list", "--json")
	var listed []map[string]any
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil {
		t.Fatalf("kernels list --json: exit %d, %v:\n%s", code, err, out)
	}
	var got []string
	for _, k := range listed {
		got = append(got, k["id"].(string))
		if k["name"] != "python3" || k["execution_state"] == nil || k["connections"] == nil {
			t.Errorf("kernel in --json lacks fields: %v", k)
		}
	}
	if slices.Sort(got); !slices.Equal(got, slices.Sorted(slices.Values(ids))) {
		t.Errorf("kernels list --json ids = %v, want %v", got, ids)
	}

	_, out, _ = runCLI(t, ctx, append([]string{"__complete", "kernels", "rm"}, append(gw, "")...)...)
	for _, id := range ids {
		if !strings.Contains(out, id+"\tpython3, ") {
			t.Errorf("kernels rm does not complete %s:\n%s", id, out)
		}
	}
	_, out, _ = runCLI(t, ctx, append([]string{"__complete", "exec"}, append(gw, "--kernel-id", ids[0][:8])...)...)
	if !strings.HasPrefix(out, ids[0]+"\t") {
		t.Errorf("exec --kernel-id %s does not complete to %s:\n%s", ids[0][:8], ids[0], out)
	}

	if code, out, errs := cli("exec", "--kernel-id", ids[0][:8], "x = 6 * 7\nprint(x)"); code != 0 || out != "42\n" {
		t.Errorf("exec --kernel-id PREFIX: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, out, errs := cli("kernels", "prune", "--all", "--dry-run"); code != 0 || len(strings.Fields(out)) != 2 || errs != "would prune 2 kernel(s)\n" || js.KernelCount(t) != 2 {
		t.Errorf("prune --all --dry-run: exit %d, stdout %q, stderr %q, %d kernels", code, out, errs, js.KernelCount(t))
	}
	if code, out, errs := cli("kernels", "rm", ids[0][:8]); code != 0 || out != ids[0]+"\n" {
		t.Errorf("kernels rm PREFIX: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if n := js.KernelCount(t); n != 1 {
		t.Errorf("%d kernels after rm, want 1", n)
	}
}

// TestResolveKernelID: a full id, a unique prefix, an ambiguous one (which
// two random ids of a real server seldom show, hence the fixed list), none.
func TestResolveKernelID(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[{"id":"5f1c0000-aaaa","name":"python3"},{"id":"5f2d0000-bbbb","name":"python3"},{"id":"5f2d0000","name":"python3"}]`))
	}))
	defer ts.Close()
	c, err := jupyter.NewClient(jupyter.Config{URL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ in, want, err string }{
		{"5f1c", "5f1c0000-aaaa", ""},
		{"5f2d0000", "5f2d0000", ""}, // a whole id wins over the longer ones it begins
		{"5f2d0000-b", "5f2d0000-bbbb", ""},
		{"5f", "", `kernel id "5f" is ambiguous: it begins 5f1c0000-aaaa, 5f2d0000-bbbb, 5f2d0000; give more of it`},
		{"77", "", `no kernel "77" on the gateway (see: analyst kernels list)`},
		{" ", "", "empty kernel id (see: analyst kernels list)"},
	} {
		got, err := resolveKernelID(context.Background(), c, tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("resolveKernelID(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && exitCode(context.Background(), &strings.Builder{}, err) != exitUsage {
			t.Errorf("resolveKernelID(%q): not a usage error", tt.in)
		}
	}
}
