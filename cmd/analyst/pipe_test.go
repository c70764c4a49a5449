package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// TestBrokenPipeEndsRunCleanly runs `analyst run ... | head` with the reader
// of stdout gone while a cell runs: the run ends as cleanly as after Ctrl-C
// (kernel deleted, run_finished recorded, the local gateway stopped with its
// runtime directory removed) with exit code 141.
func TestBrokenPipeEndsRunCleanly(t *testing.T) {
	bin := binary(t)
	js := jupytertest.Start(t)
	llm := llmtest.NewServer(t)
	llm.Respond(func(req llmtest.Request) llmtest.Reply {
		if strings.Contains(req.Messages[0].Content, "task planner") {
			return llmtest.Reply{Content: "Sub-task 1: count to 50."}
		}
		return llmtest.Reply{Content: fence("for i in range(50):\n    print(i)")}
	})
	tests := []struct {
		name  string
		args  []string
		until string // the stdout line after which the reader goes
	}{
		{"remote gateway", []string{"--gateway-url", js.URL}, "▶ running cell"},
		{"local gateway", nil, "▶ running cell"},
		{"json events", []string{"--gateway-url", js.URL, "--json"}, `"type":"cell_started"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp, out := t.TempDir(), t.TempDir()
			args := append([]string{"run", "--task", "count", "--out", out, "--max-turns", "8"}, tt.args...)
			cmd := exec.Command(bin, args...)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp,
				"OPENAI_BASE_URL="+llm.URL, "OPENAI_API_KEY=sk-test", "NO_COLOR=1",
				"JUPYTER_GATEWAY_AUTH_TOKEN="+js.Token)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			sc := bufio.NewScanner(stdout)
			for sc.Scan() && !strings.Contains(sc.Text(), tt.until) {
			}
			stdout.Close() // head has read its lines
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 141 {
				t.Errorf("exit code %d, want 141\nstderr:\n%s", code, stderr.String())
			}
			if got := stderr.String(); !strings.Contains(got, "\nanalyst: interrupted by a closed output (broken pipe)\n") {
				t.Errorf("stderr does not end by saying why the run stopped:\n%s", got)
			}
			events, err := record.ReadEvents(filepath.Join(out, "events.jsonl"))
			if err != nil || len(events) == 0 || events[len(events)-1].Type != record.TypeRunFinished {
				t.Errorf("events.jsonl does not end with run_finished (%d events, %v)", len(events), err)
			}
			if n := js.KernelCount(t); n != 0 {
				t.Errorf("%d kernels left on the gateway", n)
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "analyst-*")); len(left) > 0 {
				t.Errorf("left behind in TMPDIR: %v", left)
			}
		})
	}
}
