package benchkit_test

import (
	"context"
	"os/exec"
	"slices"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/benchkit"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
)

func TestCounts(t *testing.T) {
	got, err := benchkit.Counts("10, 20,40")
	if want := []int{10, 20, 40}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Counts(\"10, 20,40\") = %v, %v; want %v, nil", got, err, want)
	}
	for _, bad := range []string{"", "0", "4,x", "-1"} {
		_, err := benchkit.Counts(bad)
		if want := `-n "` + bad + `": want positive integers`; err == nil || err.Error() != want {
			t.Errorf("Counts(%q) error = %v; want %s", bad, err, want)
		}
	}
}

func TestLastLines(t *testing.T) {
	if got, want := benchkit.LastLines("a\nb\nc\nd\n", 3), "b | c | d"; got != want {
		t.Errorf("LastLines = %q; want %q", got, want)
	}
	if got, want := benchkit.LastLines("only\n", 3), "only"; got != want {
		t.Errorf("LastLines = %q; want %q", got, want)
	}
}

func TestRun(t *testing.T) {
	srv := &jupytertest.Server{URL: "http://127.0.0.1:1", Token: "tok"}
	cmd := benchkit.Run(context.Background(), "/bin/analyst", srv, "http://127.0.0.1:2/v1", "--task", "t")
	want := []string{"/bin/analyst", "run", "--gateway-url", "http://127.0.0.1:1", "--gateway-token", "tok",
		"--planner-model", "planner", "--writer-model", "writer", "--task", "t"}
	if !slices.Equal(cmd.Args, want) {
		t.Errorf("Args = %q; want %q", cmd.Args, want)
	}
	for _, kv := range []string{"OPENAI_BASE_URL=http://127.0.0.1:2/v1", "OPENAI_API_KEY=sk-bench", "NO_COLOR=1", "ANALYST_MODEL="} {
		if !slices.Contains(cmd.Env, kv) {
			t.Errorf("Env lacks %s", kv)
		}
	}
}

func TestUsageOf(t *testing.T) {
	if u := benchkit.UsageOf(nil); u != (benchkit.Usage{}) {
		t.Errorf("UsageOf(nil) = %+v; want zero", u)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", "b = bytearray(64 << 20)")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	u := benchkit.UsageOf(cmd.ProcessState)
	if u.PeakRSS < 64<<20 {
		t.Errorf("PeakRSS = %d; want at least the 64 MiB the child allocated", u.PeakRSS)
	}
	if u.CPU() != u.User+u.Sys {
		t.Errorf("CPU() = %s; want User+Sys = %s", u.CPU(), u.User+u.Sys)
	}
}
