package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// TestNoLLMConfigured: with neither OPENAI_API_KEY nor OPENAI_BASE_URL set,
// run and batch stop at once with exit 2, naming the variables, before any
// gateway or LLM is contacted; a base URL alone (Ollama) or a key alone
// (OpenAI) is enough.
func TestNoLLMConfigured(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("JUPYTER_GATEWAY_URL", "http://127.0.0.1:1") // never reached
	const want = "analyst: OPENAI_API_KEY is not set: set it to your LLM server's API key, or set OPENAI_BASE_URL for a server that needs none (e.g. Ollama: http://127.0.0.1:11434/v1)\n"
	dir := t.TempDir()
	file := filepath.Join(dir, "b.yaml")
	os.WriteFile(file, []byte("- {name: a, task: x}\n"), 0o644)

	for _, env := range []struct{ key, base string }{{"", ""}, {"sk-1", ""}, {"", "http://127.0.0.1:11434/v1"}} {
		t.Setenv("OPENAI_API_KEY", env.key)
		t.Setenv("OPENAI_BASE_URL", env.base)
		o := runOptions{task: "x", maxTurns: 1, cellTimeout: time.Second, outputCap: 1, maxOutput: 1, mode: modeTeam}
		err := o.validate()
		if missing := env.key == "" && env.base == ""; (err != nil) != missing {
			t.Errorf("key %q base %q: validate() = %v", env.key, env.base, err)
		}
	}

	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	for _, args := range [][]string{
		{"run", "-t", "x", "--out", filepath.Join(dir, "run")},
		{"batch", file, "--out", filepath.Join(dir, "batch")},
	} {
		code, out, errs := runCLI(t, context.Background(), args...)
		if code != exitUsage || out != "" || errs != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", args[0], code, out, errs, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "run")); err == nil {
		t.Error("run left a records folder behind")
	}
}

// TestTaskFromFileOrStdin: --task-file FILE and -t - give the task.
func TestTaskFromFileOrStdin(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "task.md")
	os.WriteFile(file, []byte("Total sales\nper region."), 0o644)
	for _, tt := range []struct {
		task, file, stdin, want string
	}{
		{"", file, "", "Total sales\nper region."},
		{"-", "", "from stdin\n", "from stdin\n"},
		{"", "-", "from stdin too", "from stdin too"},
		{"as given", "", "ignored", "as given"},
	} {
		got, err := readTask(strings.NewReader(tt.stdin), tt.task, tt.file)
		if err != nil || got != tt.want {
			t.Errorf("readTask(%q, %q) = %q, %v; want %q", tt.task, tt.file, got, err, tt.want)
		}
	}
}

// TestRunTaskFromStdin runs a whole analysis whose task comes from standard
// input, and finds it in the planner's first request.
func TestRunTaskFromStdin(t *testing.T) {
	js := jupytertest.Start(t)
	llm := scripted(t, nil, llmtest.Reply{Content: "Nothing to run.\nTERMINATION"})
	setLLM(t, llm)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	io, _, errb := testIO("What is 6 times 7?\n")
	code := run(context.Background(), []string{"run", "-t", "-", "--gateway-url", js.URL, "--gateway-token", js.Token, "--out", t.TempDir()}, io)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	reqs := llm.Requests()
	if len(reqs) == 0 || !strings.Contains(reqs[0].Messages[len(reqs[0].Messages)-1].Content, "What is 6 times 7?") {
		t.Errorf("the planner was not given the task from standard input: %+v", reqs)
	}
}

// TestVersionText: the version, the commit and its date from the build's
// VCS stamp, and the Go version; one text for `version` and `--version`.
func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "e417c83d0123456789abcdef0123456789abcdef"},
		{Key: "vcs.time", Value: "2026-11-29T20:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	want := "analyst (devel)\ncommit: e417c83d0123456789abcdef0123456789abcdef (with uncommitted changes)\ndate: 2026-11-29T20:00:00Z\ngo: go1.26.0 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got := versionText(bi, true); got != want {
		t.Errorf("versionText:\n%s\nwant\n%s", got, want)
	}
	if got := versionText(&debug.BuildInfo{GoVersion: "go1.26.0"}, true); !strings.Contains(got, "commit: unknown (built without VCS stamping: use scripts/build)\n") {
		t.Errorf("without a stamp:\n%s", got)
	}
	_, v1, _ := runCLI(t, context.Background(), "version")
	_, v2, _ := runCLI(t, context.Background(), "--version")
	if v1 != v2 || !strings.HasPrefix(v1, "analyst ") || !strings.Contains(v1, "\ngo: go1.") {
		t.Errorf("version:\n%s\n--version:\n%s", v1, v2)
	}
}

// TestBuiltVersionHasCommit: the binary scripts/build builds names the
// checkout's commit and its date.
func TestBuiltVersionHasCommit(t *testing.T) {
	head, err := gitOutput("rev-parse", "HEAD")
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	date, err := gitOutput("log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "analyst")
	if out, err := exec.Command("../../scripts/build", bin).CombinedOutput(); err != nil {
		t.Fatalf("scripts/build: %v\n%s", err, out)
	}
	out, err := runBinary(t, bin, "version")
	if err != nil {
		t.Fatalf("analyst version: %v\n%s", err, out)
	}
	if !strings.Contains(out, "commit: "+head) || !strings.Contains(out, "\ndate: "+date+"\n") {
		t.Errorf("analyst version does not name commit %s:\n%s", head, out)
	}
}

// TestCompletion: --mode values and kernel ids complete.
func TestCompletion(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, cmd := range []string{"run", "batch"} {
		_, out, _ := runCLI(t, context.Background(), "__complete", cmd, "--mode", "")
		if !strings.HasPrefix(out, "team\tplanner, writer and executor take turns\ntool\tone agent calls an execute_code tool\n:4\n") {
			t.Errorf("%s --mode completes as:\n%s", cmd, out)
		}
	}
}

// gitOutput runs git in the checkout, in UTC, and returns its trimmed
// output.
func gitOutput(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// runBinary runs the built analyst with args and returns its combined
// output.
func runBinary(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

// TestMCPInterrupted: Ctrl-C ends analyst mcp with exit 130, as every
// command.
func TestMCPInterrupted(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("JUPYTER_GATEWAY_URL", "http://127.0.0.1:1") // never reached: no tool is called
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cio, _, errb := console.Test()
	cio.In = r
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, []string{"mcp"}, cio) }()
	cancel(signalError{syscall.SIGINT})
	if code := <-done; code != exitInterrupted {
		t.Errorf("exit %d after Ctrl-C, want 130\n%s", code, errb)
	}
}
