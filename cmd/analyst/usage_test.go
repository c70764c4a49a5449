package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/console"
)

// runCLI runs the command line in-process and returns the exit code, stdout
// and stderr.
func runCLI(t testing.TB, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	io, out, errb := console.Test()
	code := run(ctx, args, io)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.csv")
	os.WriteFile(data, []byte("a\n1\n"), 0o644)
	unreadable := filepath.Join(dir, "secret.csv")
	os.WriteFile(unreadable, []byte("a\n"), 0o000)
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	t.Setenv("OPENAI_API_KEY", "sk-never-sent")
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	prompts := t.TempDir()
	os.WriteFile(filepath.Join(prompts, "notes.txt"), []byte("x"), 0o644)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"empty task", []string{"run", "--task", "  "}, `analyst: --task is empty: say what to analyse, e.g. --task "total sales per region"`},
		{"missing data", []string{"run", "-t", "x", "--data", filepath.Join(dir, "nope.csv")}, "analyst: --data " + filepath.Join(dir, "nope.csv") + ": no such file"},
		{"directory as data", []string{"run", "-t", "x", "--data", dir}, "analyst: --data " + dir + " is a directory: pass its files one by one"},
		{"replay: missing data", []string{"replay", "--data", filepath.Join(dir, "nope.csv"), dir}, "analyst: --data " + filepath.Join(dir, "nope.csv") + ": not a readable file"},
		{"replay: directory as data", []string{"replay", "--data", dir, dir}, "analyst: --data " + dir + ": not a readable file"},
		{"same name twice", []string{"run", "-t", "x", "-d", data, "-d", data}, "analyst: --data " + data + " and " + data + ` have the same name "data.csv" in the kernel: rename one`},
		{"negative timeout", []string{"run", "-t", "x", "--timeout", "-5s"}, "analyst: --timeout must not be negative, got -5s"},
		{"zero cell timeout", []string{"run", "-t", "x", "--cell-timeout", "0s"}, "analyst: --cell-timeout must be positive, got 0s"},
		{"bad duration", []string{"run", "-t", "x", "--timeout", "soon"}, `analyst: --timeout "soon": want a duration such as 90s or 5m`},
		{"duration without unit", []string{"run", "-t", "x", "--cell-timeout", "5"}, `analyst: --cell-timeout "5": a duration needs a unit, such as 5s or 5m`},
		{"not a number", []string{"run", "-t", "x", "--max-turns", "abc"}, `analyst: --max-turns "abc": want a whole number`},
		{"not a float", []string{"run", "-t", "x", "--price-in", "cheap"}, `analyst: --price-in "cheap": want a number such as 0.5`},
		{"not a temperature", []string{"run", "-t", "x", "--temperature", "warm"}, `analyst: --temperature "warm": want a number such as 0.5`},
		{"exec duration without unit", []string{"exec", "--cell-timeout", "5", "1"}, `analyst: --cell-timeout "5": a duration needs a unit, such as 5s or 5m`},
		{"misspelt flag", []string{"run", "--taks", "x"}, "analyst: unknown flag: --taks (did you mean --task?)"},
		{"misspelt gateway flag", []string{"exec", "--gateway-ulr", "x"}, "analyst: unknown flag: --gateway-ulr (did you mean --gateway-url?)"},
		{"-v at the top", []string{"-v"}, "analyst: unknown shorthand flag: 'v' in -v (did you mean --version?)"},
		{"far from any flag", []string{"run", "--colour"}, "analyst: unknown flag: --colour"},
		{"prompts missing", []string{"run", "-t", "x", "--prompts", "/nonexistent"}, "analyst: --prompts /nonexistent: no such directory"},
		{"prompts missing inside a folder", []string{"run", "-t", "x", "--prompts", filepath.Join(prompts, "planner.md")}, "analyst: --prompts " + filepath.Join(prompts, "planner.md") + ": no such directory"},
		{"prompts is a file", []string{"run", "-t", "x", "--prompts", data}, "analyst: --prompts " + data + " is a file: pass the directory that holds planner.md, writer.md, tool.md"},
		{"prompts without prompts", []string{"run", "-t", "x", "--prompts", prompts}, "analyst: --prompts " + prompts + " holds none of planner.md, writer.md, tool.md"},
		{"task twice", []string{"run", "-t", "x", "--task-file", data}, "analyst: give the task either with --task or with --task-file, not both"},
		{"task file missing", []string{"run", "--task-file", filepath.Join(dir, "task.md")}, "analyst: --task-file " + filepath.Join(dir, "task.md") + ": no such file"},
		{"exec zero cell timeout", []string{"exec", "--cell-timeout", "0s", "1"}, "analyst: --cell-timeout must be positive, got 0s"},
		{"exec old timeout name", []string{"exec", "--timeout", "0s", "1"}, "analyst: --cell-timeout must be positive, got 0s"},
		{"prune all without a terminal", []string{"kernels", "prune", "--all", "--gateway-url", "http://127.0.0.1:1"}, "analyst: --all deletes every idle kernel on the gateway, also other people's: add --yes to confirm, or --dry-run to see which"},
		{"max turns", []string{"run", "-t", "x", "--max-turns", "0"}, "analyst: --max-turns must be at least 1, got 0"},
		{"temperature", []string{"run", "-t", "x", "--temperature", "3"}, "analyst: --temperature must be between 0 and 2, got 3"},
		{"context budget", []string{"run", "-t", "x", "--context-budget", "500"}, "analyst: --context-budget must be at least 2000 tokens, got 500"},
		{"malformed URL", []string{"run", "-t", "x", "--gateway-url", "ftp://host"}, `analyst: invalid gateway URL "ftp://host": scheme must be http or https`},
		{"unknown flag", []string{"run", "--colour"}, "analyst: unknown flag: --colour"},
		{"unknown command", []string{"frobnicate"}, `analyst: unknown command "frobnicate" for "analyst"`},
		{"unwritable out", []string{"run", "-t", "x", "--out", data + "/sub"}, "analyst: --out " + data + "/sub: cannot write the run's records there: mkdir " + data + ": not a directory"},
		{"exec without code", []string{"exec"}, "analyst: no code: pass CODE, -f FILE, or - to read standard input"},
		{"exec both", []string{"exec", "-f", data, "print(1)"}, "analyst: give the code either with -f or as an argument, not both"},
		{"exec missing file", []string{"exec", "-f", filepath.Join(dir, "x.py")}, "analyst: -f " + filepath.Join(dir, "x.py") + ": no such file"},
		{"exec kernel id without gateway", []string{"exec", "--kernel-id", "abc", "1"}, "analyst: --kernel-id needs --gateway-url or JUPYTER_GATEWAY_URL: which gateway holds the kernel?"},
		{"kernels without gateway", []string{"kernels", "list"}, "analyst: no gateway: pass --gateway-url or set JUPYTER_GATEWAY_URL (e.g. http://127.0.0.1:8888)"},
		{"kernels rm without id", []string{"kernels", "rm", "--gateway-url", "http://127.0.0.1:1"}, "analyst: kernels rm needs at least one kernel id (see: analyst kernels list)"},
		{"version with args", []string{"version", "extra"}, `analyst: analyst version takes no arguments, got "extra"`},
	}
	if os.Geteuid() != 0 { // root reads any file
		tests = append(tests, struct {
			name string
			args []string
			want string
		}{"unreadable data", []string{"run", "-t", "x", "--data", unreadable}, "analyst: --data " + unreadable + ": permission denied"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, context.Background(), tt.args...)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, exitUsage, errs)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
			if len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one:\n%s", len(lines), errs)
			}
			if tt.want != "" && lines[0] != tt.want {
				t.Errorf("stderr:\n got %s\nwant %s", lines[0], tt.want)
			}
			if strings.Contains(errs, "goroutine") || strings.Contains(errs, "{") {
				t.Errorf("stderr shows a stack trace or raw JSON: %s", errs)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, context.Background(), "version")
	if code != 0 || !strings.HasPrefix(out, "analyst ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestPlainTokenWarning(t *testing.T) {
	for _, tt := range []struct{ url, token, want string }{
		{"http://gpu-node.example.com:8888", "t0k", "analyst: warning: the gateway token goes to gpu-node.example.com over plain http, readable on the way: use https"},
		{"http://10.1.2.3:8888/base?token=t0k", "", "analyst: warning: the gateway token goes to 10.1.2.3 over plain http, readable on the way: use https"},
		{"https://gpu-node.example.com", "t0k", ""},
		{"http://127.0.0.1:8888", "t0k", ""},
		{"http://[::1]:8888", "t0k", ""},
		{"http://localhost:8888", "t0k", ""},
		{"http://gpu-node.example.com", "", ""},
	} {
		if got := plainTokenWarning(tt.url, tt.token); got != tt.want {
			t.Errorf("plainTokenWarning(%q, %q) = %q, want %q", tt.url, tt.token, got, tt.want)
		}
		if strings.Contains(plainTokenWarning(tt.url, tt.token), "t0k") {
			t.Errorf("the warning shows the token")
		}
	}
}
