package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
)

// writeConfig writes the config file under a fresh XDG_CONFIG_HOME and
// returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	path := filepath.Join(home, "analyst", "config.yaml")
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// parsedFlags parses the command line as the CLI would, applies the config
// file, and returns the command's flags.
func parsedFlags(t *testing.T, args ...string) (*pflag.FlagSet, error) {
	t.Helper()
	io, _, _ := console.Test()
	cmd, rest, err := newRootCmd(io).Find(args)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatal(err)
	}
	return cmd.Flags(), applyConfig(cmd.Flags())
}

const testConfig = `
model: cfg-model
models:
  planner: cfg-planner
gateway_url: http://cfg-gateway:8888
prices:
  in: 1.5
  out: 6
context_budget: 7000
`

// TestConfigPrecedence: the config file fills what the command line and the
// environment leave unset, and nothing else.
func TestConfigPrecedence(t *testing.T) {
	writeConfig(t, testConfig)
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want map[string]string
	}{
		{"file only", nil, []string{"run"}, map[string]string{
			"model": "cfg-model", "planner-model": "cfg-planner", "writer-model": "", "gateway-url": "http://cfg-gateway:8888", "price-in": "1.5", "price-out": "6", "context-budget": "7000",
		}},
		{"flags win", nil, []string{"run", "-m", "flag-model", "--gateway-url", "http://flag:1", "--price-in", "2"}, map[string]string{
			"model": "flag-model", "planner-model": "", "gateway-url": "http://flag:1", "price-in": "2", "price-out": "6",
		}},
		{"per-agent flag", nil, []string{"batch", "--planner-model", "flag-planner"}, map[string]string{
			"model": "cfg-model", "planner-model": "flag-planner",
		}},
		{"env wins", map[string]string{"ANALYST_MODEL": "env-model", "JUPYTER_GATEWAY_URL": "http://env:2", "ANALYST_CONTEXT_BUDGET": "9000"}, []string{"run"}, map[string]string{
			"model": "", "planner-model": "", "gateway-url": "", "context-budget": "0",
		}},
		{"budget flag wins", nil, []string{"run", "--context-budget", "5000"}, map[string]string{"context-budget": "5000"}},
		{"gateway commands", nil, []string{"exec"}, map[string]string{"gateway-url": "http://cfg-gateway:8888"}},
		{"kernels", nil, []string{"kernels", "list"}, map[string]string{"gateway-url": "http://cfg-gateway:8888"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ANALYST_MODEL", tt.env["ANALYST_MODEL"])
			t.Setenv("JUPYTER_GATEWAY_URL", tt.env["JUPYTER_GATEWAY_URL"])
			t.Setenv("ANALYST_CONTEXT_BUDGET", tt.env["ANALYST_CONTEXT_BUDGET"])
			fs, err := parsedFlags(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := fs.Lookup(name).Value.String(); got != want {
					t.Errorf("--%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestConfigErrors: a bad config file is a usage error naming the file, and
// secrets are refused.
func TestConfigErrors(t *testing.T) {
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	for _, tt := range []struct{ text, want string }{
		{"api_key: sk-123\n", "api_key is a secret and stays out of files: set OPENAI_API_KEY in the environment instead"},
		{"gateway_token: t0k\n", "gateway_token is a secret and stays out of files: set JUPYTER_GATEWAY_AUTH_TOKEN in the environment instead"},
		{"gateway_url: https://gw.example.com/?token=t0k\n", "gateway_url holds a token, a secret that stays out of files: set JUPYTER_GATEWAY_AUTH_TOKEN in the environment instead"},
		{"model: a\nmodle: b\n", `line 2: unknown key "modle" (known keys: model, models.planner, models.writer, gateway_url, prices.in, prices.out, context_budget)`},
		{"context_budget: lots\n", "line 1: !!str `lots` is not a whole number (known keys: model, models.planner, models.writer, gateway_url, prices.in, prices.out, context_budget)"},
		{"prices:\n  in: cheap\n", "line 2: !!str `cheap` is not a number (known keys: model, models.planner, models.writer, gateway_url, prices.in, prices.out, context_budget)"},
		{"- model\n", "line 1: !!seq is not a mapping of keys"},
		{"prices: {in: -1}\n", "prices must not be negative"},
		{"gateway_url: ftp://x\n", ""}, // checked as --gateway-url is
	} {
		path := writeConfig(t, tt.text)
		code, out, errs := runCLI(t, context.Background(), "kernels", "list")
		want := "analyst: config file " + path + ": " + tt.want + "\n"
		if tt.want == "" {
			want = "analyst: invalid gateway URL \"ftp://x\": scheme must be http or https\n"
		}
		if code != exitUsage || out != "" || !strings.HasPrefix(errs, strings.TrimSuffix(want, "\n")) || strings.Count(errs, "\n") != 1 {
			t.Errorf("config %q: exit %d, stderr %q; want exit 2 and %q", tt.text, code, errs, want)
		}
		if strings.Contains(errs, "sk-123") || strings.Contains(errs, "t0k") {
			t.Errorf("the error shows the secret: %s", errs)
		}
	}
	// A command that reads nothing from the file does not fail on it.
	writeConfig(t, "api_key: sk-123\n")
	if code, out, _ := runCLI(t, context.Background(), "config", "path"); code != 0 || out == "" {
		t.Errorf("config path with a bad file: exit %d", code)
	}
}

// TestConfigPath prints where the file is, with and without
// XDG_CONFIG_HOME.
func TestConfigPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	if code, out, _ := runCLI(t, context.Background(), "config", "path"); code != 0 || out != filepath.Join(home, "analyst", "config.yaml")+"\n" {
		t.Errorf("config path: exit %d, %q", code, out)
	}
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", home)
	if _, out, _ := runCLI(t, context.Background(), "config", "path"); out != filepath.Join(home, ".config", "analyst", "config.yaml")+"\n" {
		t.Errorf("config path without XDG_CONFIG_HOME: %q", out)
	}
}

// TestConfigGatewayURL: a real command reaches the gateway the config file
// names, with the token from the environment.
func TestConfigGatewayURL(t *testing.T) {
	js := jupytertest.Start(t)
	writeConfig(t, "gateway_url: "+js.URL+"\n")
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	t.Setenv("JUPYTER_GATEWAY_AUTH_TOKEN", js.Token)
	code, out, errs := runCLI(t, context.Background(), "kernels", "list", "--json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("kernels list through the config's gateway: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestMain keeps the tests, and the analyst processes they start, away
// from the config file of whoever runs them.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "analyst-test-config-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	os.Setenv("XDG_STATE_HOME", dir) // kernel leases (lease.go) stay out of the home folder
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
