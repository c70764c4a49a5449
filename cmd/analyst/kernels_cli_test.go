package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
	"github.com/analyst-dev/analyst/jupyter"
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

	const noSpec = "analyst: start kernel \"nosuchkernel\": the gateway has no such kernel spec; it has python3 (Python 3 (ipykernel)): choose one with --kernel\n"
	for _, args := range [][]string{{"kernels", "start", "--kernel", "nosuchkernel"}, {"exec", "--kernel", "nosuchkernel", "1"}} {
		if code, out, errs := cli(args...); code != exitUsage || out != "" || errs != noSpec {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, out, errs, noSpec)
		}
	}
	// run: the planner is asked while the kernel starts; the failed start
	// ends the run with the same line, exit 2, and no records folder. The
	// answers hold code, which waits for the kernel: without it the run
	// could reach its turn limit before the start failed.
	llm := llmtest.NewServer(t)
	llm.Respond(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Content: "Sub-task 1: print 1.\n```python\nprint(1)\n```"}
	})
	setLLM(t, llm)
	runOut := filepath.Join(t.TempDir(), "run")
	if code, _, errs := cli("run", "-t", "x", "--kernel", "nosuchkernel", "--out", runOut); code != exitUsage || !strings.Contains(errs, strings.TrimPrefix(noSpec, "analyst: ")) {
		t.Errorf("run --kernel nosuchkernel: exit %d, stderr %q; want exit 2 and %q", code, errs, noSpec)
	}
	if _, err := os.Stat(runOut); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("run --kernel nosuchkernel left %s behind (%v)", runOut, err)
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
	// The server records the kernel idle a moment after exec has seen it
	// so, and prune --all leaves busy kernels alone.
	idleCtx, cancel := context.WithTimeout(ctx, 2*time.Minute) // a loaded 2-core machine
	defer cancel()
	waitKernelList(idleCtx, t, js, "a kernel stayed busy", func(ks []jupyter.Kernel) bool {
		return !slices.ContainsFunc(ks, func(k jupyter.Kernel) bool { return k.ExecutionState == "busy" })
	})
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

// ptyScript runs argv[1:] on a new pseudo-terminal, answers the first
// "[y/N] " prompt with argv[1], and prints what the terminal showed and,
// on its last line, the exit code.
const ptyScript = `
import os, pty, sys
answer, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
seen, answered = b"", False
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not answered and b"[y/N] " in seen:
        os.write(fd, answer.encode() + b"\n")
        answered = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace").replace("\r\n", "\n"))
print()
print(os.waitstatus_to_exitcode(status))
`

// TestPruneAllAsksOnATerminal: on a terminal, prune --all asks before
// deleting every idle kernel; "n" keeps them (exit 2), "y" deletes them.
func TestPruneAllAsksOnATerminal(t *testing.T) {
	js := jupytertest.Start(t)
	c, _ := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if _, err := c.StartKernel(context.Background(), jupyter.StartOptions{Name: "python3"}); err != nil {
		t.Fatal(err)
	}
	bin := binary(t)
	prune := func(answer string) (string, string) {
		t.Helper()
		out, err := exec.Command("/usr/bin/python3", "-c", ptyScript, answer, bin, "kernels", "prune", "--all", "--gateway-url", js.URL, "--gateway-token", js.Token).Output()
		if err != nil {
			t.Fatalf("pty: %v\n%s", err, out)
		}
		text := strings.TrimRight(string(out), "\n")
		i := strings.LastIndex(text, "\n")
		return text[:i], text[i+1:]
	}
	const prompt = "Delete 1 idle kernel on the gateway, also other people's? [y/N] "
	if shown, code := prune("n"); code != "2" || !strings.Contains(shown, prompt) || !strings.Contains(shown, "analyst: nothing deleted") || js.KernelCount(t) != 1 {
		t.Errorf("answered n: exit %s, %d kernels, terminal:\n%s", code, js.KernelCount(t), shown)
	}
	if shown, code := prune("y"); code != "0" || !strings.Contains(shown, prompt) || !strings.Contains(shown, "pruned 1 kernel(s)") || js.KernelCount(t) != 0 {
		t.Errorf("answered y: exit %s, %d kernels, terminal:\n%s", code, js.KernelCount(t), shown)
	}
}
