package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// sentinelGatewayToken is a gateway token in analyst's environment on the
// paths that use the local gateway (which ignores it).
const sentinelGatewayToken = "SENTINEL-GATEWAY-TOKEN-3e8b"

// envCell prints the kernel's whole environment.
const envCell = "import os\nprint('ENV', dict(os.environ))"

// secretsEnv puts the sentinel secrets in the environment of analyst,
// which talks to llm; a gateway token too, for the local gateway's paths.
func secretsEnv(t *testing.T, llm *llmtest.Server, gatewayToken string) {
	setLLM(t, llm)
	t.Setenv("OPENAI_API_KEY", sentinelKey)
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	t.Setenv("JUPYTER_GATEWAY_AUTH_TOKEN", gatewayToken)
	t.Setenv("KERNEL_ANALYST_TEST", "harmless")
}

// gather returns texts, the files under dirs and the messages the LLM
// received, by where they are.
func gather(llm *llmtest.Server, texts []string, dirs ...string) map[string]string {
	named := map[string]string{}
	for i, s := range texts {
		named[fmt.Sprintf("output %d", i)] = s
	}
	for _, dir := range dirs {
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				b, _ := os.ReadFile(p)
				named[p] = string(b)
			}
			return nil
		})
	}
	for i, r := range llm.Requests() {
		for _, m := range r.Messages {
			named[fmt.Sprintf("LLM request %d", i+1)] += m.Content + "\n"
		}
	}
	return named
}

// noLeaks fails the test if a secret is in any of the texts.
func noLeaks(t *testing.T, secrets []string, named map[string]string) {
	t.Helper()
	for where, text := range named {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds the secret %q", where, s)
			}
		}
	}
}

// noSecrets fails the test if a secret is in any of texts, in any file
// under dirs, or in any message the LLM received; and if the kernel's
// printed environment needed scrubbing (then the kernel had a secret).
func noSecrets(t *testing.T, secrets []string, llm *llmtest.Server, texts []string, dirs ...string) {
	t.Helper()
	named := gather(llm, texts, dirs...)
	noLeaks(t, secrets, named)
	sawEnv := false
	for where, text := range named {
		for _, line := range strings.Split(text, "\n") {
			if strings.Contains(line, "ENV {") {
				sawEnv = true
				if strings.Contains(line, "[redacted") || strings.Contains(line, "'OPENAI_API_KEY'") || strings.Contains(line, "'JUPYTER_GATEWAY_AUTH_TOKEN'") {
					t.Errorf("%s: the kernel's environment held a secret: %.300s", where, line)
				}
			}
		}
	}
	if !sawEnv {
		t.Errorf("no output shows the kernel's environment")
	}
}

// TestSecretsNeverReachKernel runs, on each path, a cell that prints the
// kernel's whole environment while analyst's own holds an API key and a
// gateway token: none of them is in the kernel, the console, the records or
// what the LLM is sent.
func TestSecretsNeverReachKernel(t *testing.T) {
	js := jupytertest.Start(t) // skips (or fails under CI) when Jupyter is missing
	team := func() *llmtest.Server {
		return scripted(t, nil,
			llmtest.Reply{Content: "Sub-task 1: print the environment."},
			llmtest.Reply{Content: fence(envCell)},
			llmtest.Reply{Content: "Done.\nTERMINATION"})
	}
	t.Run("local gateway", func(t *testing.T) {
		llm := team()
		secretsEnv(t, llm, sentinelGatewayToken)
		out := t.TempDir()
		code, stdout, stderr := runCLI(t, context.Background(), "run", "--task", "env", "--workdir", t.TempDir(), "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		noSecrets(t, []string{sentinelKey, sentinelGatewayToken}, llm, []string{stdout, stderr}, out)
	})
	t.Run("remote gateway", func(t *testing.T) {
		llm := team()
		secretsEnv(t, llm, js.Token)
		out := t.TempDir()
		code, stdout, stderr := runCLI(t, context.Background(), "run", "--task", "env", "--gateway-url", js.URL, "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		noSecrets(t, []string{sentinelKey, js.Token}, llm, []string{stdout, stderr}, out)
	})
	t.Run("tool mode", func(t *testing.T) {
		llm := scripted(t, nil,
			llmtest.Reply{Content: "Looking.", ToolCalls: []llmtest.ToolCall{toolCall("call_1", envCell)}},
			llmtest.Reply{Content: "Done."})
		secretsEnv(t, llm, sentinelGatewayToken)
		out := t.TempDir()
		code, stdout, stderr := runCLI(t, context.Background(), "run", "--mode", "tool", "--task", "env", "--workdir", t.TempDir(), "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		noSecrets(t, []string{sentinelKey, sentinelGatewayToken}, llm, []string{stdout, stderr}, out)
	})
	t.Run("batch", func(t *testing.T) {
		llm := team()
		secretsEnv(t, llm, sentinelGatewayToken)
		file := filepath.Join(t.TempDir(), "env.jsonl")
		if err := os.WriteFile(file, []byte(`{"name": "env", "task": "print the environment", "expect": ["ENV"]}`+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		code, stdout, stderr := runCLI(t, context.Background(), "batch", file, "--workdir", t.TempDir(), "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		noSecrets(t, []string{sentinelKey, sentinelGatewayToken}, llm, []string{stdout, stderr}, out)
	})
	t.Run("exec", func(t *testing.T) {
		secretsEnv(t, llmtest.NewServer(t), sentinelGatewayToken)
		code, stdout, stderr := runCLI(t, context.Background(), "exec", "--workdir", t.TempDir(), envCell)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		noSecrets(t, []string{sentinelKey, sentinelGatewayToken}, llmtest.NewServer(t), []string{stdout, stderr})
	})
	t.Run("mcp", func(t *testing.T) {
		secretsEnv(t, llmtest.NewServer(t), sentinelGatewayToken)
		texts, stderr := mcpSession(t, t.TempDir(), envCell)
		noSecrets(t, []string{sentinelKey, sentinelGatewayToken}, llmtest.NewServer(t), append(texts, stderr))
	})
}

// TestSecretsScrubbed: when the secret does reach text, because the LLM
// wrote it or a cell printed it (built from pieces, as an attacker's code
// would), the console, the records and the LLM get a marker instead, and
// the run warns once.
func TestSecretsScrubbed(t *testing.T) {
	js := jupytertest.Start(t)
	half := len(sentinelKey) / 2
	printKey := fmt.Sprintf("print('KEY', %q + %q)", sentinelKey[:half], sentinelKey[half:])
	const marker = "[redacted OPENAI_API_KEY]"
	const warning = "analyst: warning: the OPENAI_API_KEY appeared in a cell's output or the LLM's answer; it is shown as [redacted OPENAI_API_KEY]\n"
	t.Run("run", func(t *testing.T) {
		llm := scripted(t, nil,
			llmtest.Reply{Content: "Sub-task 1: the key is " + sentinelKey + "; print it."},
			llmtest.Reply{Content: fence(printKey)},
			llmtest.Reply{Content: "Printed.\nTERMINATION"})
		llm.SetChunkSize(4)
		secretsEnv(t, llm, js.Token)
		out := t.TempDir()
		code, stdout, stderr := runCLI(t, context.Background(), "run", "--task", "key", "--gateway-url", js.URL, "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		for _, want := range []string{"the key is " + marker, "KEY " + marker} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the transcript does not show %q:\n%s", want, stdout)
			}
		}
		if n := strings.Count(stderr, warning); n != 1 {
			t.Errorf("the warning is shown %d times, want once:\n%s", n, stderr)
		}
		if msgs := llm.Requests()[2].Messages; !strings.Contains(msgs[len(msgs)-1].Content, "KEY "+marker) {
			t.Errorf("the LLM was not sent the scrubbed output: %q", msgs[len(msgs)-1].Content)
		}
		noLeaks(t, []string{sentinelKey, js.Token}, gather(llm, []string{stdout, stderr}, out))
	})
	t.Run("mcp", func(t *testing.T) {
		secretsEnv(t, llmtest.NewServer(t), sentinelGatewayToken)
		texts, stderr := mcpSession(t, t.TempDir(), printKey)
		if len(texts) != 1 || !strings.Contains(texts[0], "KEY "+marker) || strings.Contains(texts[0], sentinelKey) {
			t.Errorf("execute_code returned %q", texts)
		}
		if n := strings.Count(stderr, warning); n != 1 {
			t.Errorf("the warning is shown %d times, want once:\n%s", n, stderr)
		}
	})
}

// mcpSession runs analyst mcp on a local gateway in workdir over its
// standard streams, calls execute_code with each code in turn, ends the
// session (which ends the command) and returns the calls' texts and
// analyst's standard error.
func mcpSession(t *testing.T, workdir string, codes ...string) ([]string, string) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	cio, _, _ := console.Test()
	var errs syncBuffer
	cio.In, cio.Out, cio.Err = inR, outW, &errs
	exit := make(chan int, 1)
	go func() {
		exit <- run(context.Background(), []string{"mcp", "--workdir", workdir}, cio)
		outW.Close()
	}()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, code := range codes {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "execute_code", Arguments: map[string]any{"code": code}})
		if err != nil || res.IsError || len(res.Content) == 0 {
			t.Fatalf("execute_code: %+v, %v", res, err)
		}
		texts = append(texts, res.Content[0].(*mcp.TextContent).Text)
	}
	cs.Close()
	if c := <-exit; c != 0 {
		t.Errorf("exit %d\n%s", c, errs.String())
	}
	return texts, errs.String()
}

// TestSecretUsageErrors: a variable that would carry a secret to a kernel
// is refused before anything starts, in one line, with exit 2.
func TestSecretUsageErrors(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", sentinelKey)
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	t.Setenv("JUPYTER_GATEWAY_AUTH_TOKEN", "")
	t.Setenv("ANALYST_TEST_DB_URL", "postgres://db/x")
	remote := []string{"run", "-t", "x", "--gateway-url", "http://127.0.0.1:9"}
	tests := []struct {
		name string
		env  [2]string
		args []string
		want string
	}{
		{"KERNEL_* holding the API key", [2]string{"KERNEL_EXTRA", sentinelKey}, remote,
			"analyst: environment variable KERNEL_EXTRA holds the OPENAI_API_KEY: analyst never sends it to a kernel"},
		{"KERNEL_* holding the gateway token in a longer value", [2]string{"KERNEL_EXTRA", "x=" + sentinelGatewayToken},
			append(remote, "--gateway-token", sentinelGatewayToken),
			"analyst: environment variable KERNEL_EXTRA holds the gateway token: analyst never sends it to a kernel"},
		{"KERNEL_* equal to a short token", [2]string{"KERNEL_EXTRA", "abc"}, append(remote, "--gateway-token", "abc"),
			"analyst: environment variable KERNEL_EXTRA holds the gateway token: analyst never sends it to a kernel"},
		{"--kernel-env of the API key", [2]string{}, []string{"run", "-t", "x", "--kernel-env", "OPENAI_API_KEY"},
			"analyst: environment variable OPENAI_API_KEY holds the OPENAI_API_KEY: analyst never sends it to a kernel"},
		{"--kernel-env unset", [2]string{}, []string{"exec", "--kernel-env", "ANALYST_TEST_UNSET", "1"},
			"analyst: --kernel-env ANALYST_TEST_UNSET: no such variable in the environment"},
		{"--kernel-env with a value", [2]string{}, []string{"mcp", "--kernel-env", "A=b"},
			`analyst: --kernel-env takes the name of an environment variable, got "A=b"`},
		{"--kernel-env with a remote gateway", [2]string{}, append(remote, "--kernel-env", "ANALYST_TEST_DB_URL"),
			"analyst: --kernel-env works with the local gateway only: a remote gateway's kernels get KERNEL_* variables (set KERNEL_ANALYST_TEST_DB_URL instead)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env[0] != "" {
				t.Setenv(tt.env[0], tt.env[1])
			}
			code, out, errs := runCLI(t, context.Background(), tt.args...)
			if code != exitUsage || out != "" || errs != tt.want+"\n" {
				t.Errorf("exit %d, stdout %q, stderr:\n got %q\nwant %q", code, out, errs, tt.want+"\n")
			}
		})
	}
}
