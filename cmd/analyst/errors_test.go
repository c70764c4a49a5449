package main

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/localgw"
	"github.com/analyst-dev/analyst/internal/replay"
	"github.com/analyst-dev/analyst/jupyter"
)

// TestExplain checks that errors reach the user with what to do about them,
// worded by the command from the error's type.
func TestExplain(t *testing.T) {
	base := "http://127.0.0.1:1/v1"
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("start kernel %q: %w", "python3", jupyter.ErrUnauthorized),
			`start kernel "python3": not authorized: check --gateway-token or JUPYTER_GATEWAY_AUTH_TOKEN`},
		{fmt.Errorf("start kernel: %w", &jupyter.UserNotAllowedError{User: "root"}),
			`start kernel: the gateway refuses to start kernels for user "root": set KERNEL_USERNAME to an allowed user`},
		{&jupyter.QueueTimeoutError{Op: "start kernel", Waited: 5 * time.Minute, Attempts: 3, Last: errors.New("at limit")},
			"start kernel: the gateway stayed at its kernel limit for 5m (3 attempts): at limit: raise --queue-timeout or the gateway's kernel limit"},
		{fmt.Errorf("local gateway: %w", localgw.ErrNotInstalled),
			"local gateway: no Jupyter installed here: install Debian's python3-jupyter-server python3-ipykernel (or pip install jupyter_kernel_gateway ipykernel), or point analyst at a gateway with --gateway-url"},
		{fmt.Errorf("replay x: %w", &replay.MissingDataError{Name: "a.csv", Dir: "x", Recorded: "/data/a.csv"}),
			"replay x: data file a.csv not found beside the recording in x (recorded as /data/a.csv): pass it with --data"},
		{fmt.Errorf("planner: %w", &llm.Error{Kind: llm.ModelNotFound, Model: "gpt-9", BaseURL: base, Status: 404}),
			`planner: model "gpt-9" not found at ` + base + ` (404): check --model or ANALYST_MODEL`},
		{&llm.Error{Kind: llm.Auth, Status: 401}, "the LLM server rejected the API key (401): check OPENAI_API_KEY"},
		{&llm.Error{Kind: llm.Auth, Status: 403, Model: "m", Message: "no access"}, `the LLM server refused access to model "m" (403): no access: check OPENAI_API_KEY and its permissions`},
		{&llm.Error{Kind: llm.NotFound, BaseURL: base, Status: 404}, "no chat completions endpoint at " + base + " (404): check OPENAI_BASE_URL (it usually ends in /v1)"},
		{&llm.Error{Kind: llm.NoModel}, "no model given: set --model or ANALYST_MODEL"},
		{&llm.Error{Kind: llm.ToolsUnsupported, Model: "m", BaseURL: base, Status: 400, Message: "no tools"},
			`model "m" at ` + base + ` does not support tool calling (400): no tools: use --mode team, whose agents need no tool calling`},
		{fmt.Errorf("planner: %w", &llm.Error{Kind: llm.ContextLength, Model: "m", Status: 400, Message: "This model's maximum context length is 8192 tokens."}),
			`planner: the prompt is longer than model "m"'s context window (400): This model's maximum context length is 8192 tokens.: lower --context-budget (or ANALYST_CONTEXT_BUDGET) below the model's context window, e.g. 5000 for an 8k-token model`},
		{&llm.Error{Kind: llm.RateLimited, Status: 429}, "the LLM server is rate limiting requests (429)"},
		{errors.New("two\nlines"), "two lines"},
	}
	for _, tt := range tests {
		if got := explain(tt.err); got != tt.want {
			t.Errorf("explain(%v)\n got %s\nwant %s", tt.err, got, tt.want)
		}
	}
}
