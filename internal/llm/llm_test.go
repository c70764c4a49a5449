package llm_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// sentinelKey must never appear in an error message.
const sentinelKey = "sk-SENTINEL-0123456789abcdef"

// recorder records the waits and retry events of a client.
type recorder struct {
	mu     sync.Mutex
	waits  []time.Duration
	events []llm.RetryEvent
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	return ctx.Err()
}

func (r *recorder) onRetry(ev llm.RetryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// newClient returns a client for baseURL whose waits return at once and are
// recorded. configure, if not nil, adjusts the config first.
func newClient(t *testing.T, baseURL string, configure func(*llm.Config)) (*llm.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg := llm.Config{BaseURL: baseURL, APIKey: sentinelKey, Sleep: rec.sleep, OnRetry: rec.onRetry}
	if configure != nil {
		configure(&cfg)
	}
	c, err := llm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func userRequest(text string) llm.Request {
	return llm.Request{Model: "test-model", Messages: []llm.Message{
		{Role: "system", Content: "You are terse."},
		{Role: "user", Content: text},
	}}
}

// deltas collects the pieces of a stream as a caller shows them: a restart
// discards what was shown.
type deltas struct {
	pieces   []string
	restarts int
}

func (d *deltas) add(s string) { d.pieces = append(d.pieces, s) }
func (d *deltas) restart()     { d.pieces, d.restarts = nil, d.restarts+1 }
func (d *deltas) text() string { return strings.Join(d.pieces, "") }

func TestStreamText(t *testing.T) {
	const answer = "Total sales per region: West 725457.82, East 678781.24."
	s := llmtest.NewServer(t, llmtest.Reply{Content: answer, Usage: &llmtest.Usage{PromptTokens: 42, CompletionTokens: 17}})
	c, _ := newClient(t, s.URL, nil)
	var d deltas
	resp, err := c.Stream(t.Context(), userRequest("sum it"), d.add)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != answer || d.text() != answer {
		t.Errorf("content %q, deltas %q, want %q", resp.Content, d.text(), answer)
	}
	if want := (len(answer) + 2) / 3; len(d.pieces) != want {
		t.Errorf("%d deltas, want %d", len(d.pieces), want)
	}
	want := llm.Response{Content: answer, FinishReason: "stop", Usage: llm.Usage{PromptTokens: 42, CompletionTokens: 17}}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response %+v, want %+v", resp, want)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || !reqs[0].Stream || !reqs[0].IncludeUsage {
		t.Fatalf("requests %+v: want one stream asking for usage", reqs)
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer "+sentinelKey {
		t.Errorf("Authorization %q", got)
	}
	if m := reqs[0].Messages; len(m) != 2 || m[0].Role != "system" || m[1].Content != "sum it" {
		t.Errorf("messages %+v", m)
	}
}

func TestUsageEstimatedWithoutServerUsage(t *testing.T) {
	s := llmtest.NewServer(t,
		llmtest.Reply{Content: "123456789", NoUsage: true},
		llmtest.Reply{Content: "123456789", NoUsage: true})
	c, _ := newClient(t, s.URL, nil)
	req := llm.Request{Model: "m", Messages: []llm.Message{
		{Role: "system", Content: "abcdefgh"}, // 2 tokens
		{Role: "user", Content: "hello"},      // 2 tokens (5 characters, rounded up)
	}}
	want := llm.Usage{PromptTokens: 4, CompletionTokens: 3, Estimated: true}
	resp, err := c.Stream(t.Context(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage != want {
		t.Errorf("stream usage %+v, want %+v", resp.Usage, want)
	}
	resp, err = c.Complete(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage != want {
		t.Errorf("complete usage %+v, want %+v", resp.Usage, want)
	}
}

func TestEstimateTokens(t *testing.T) {
	for s, want := range map[string]int{"": 0, "a": 1, "abcd": 1, "abcde": 2, "héllo wörld!": 3} {
		if got := llm.EstimateTokens(s); got != want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestComplete(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{
		Content:   "Looking.",
		ToolCalls: []llmtest.ToolCall{{ID: "call_1", Name: "run_python", Arguments: `{"code":"print(1)"}`}},
		Usage:     &llmtest.Usage{PromptTokens: 10, CompletionTokens: 5},
	})
	c, _ := newClient(t, s.URL, nil)
	resp, err := c.Complete(t.Context(), userRequest("go"))
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Response{
		Content:      "Looking.",
		ToolCalls:    []llm.ToolCall{{ID: "call_1", Name: "run_python", Arguments: `{"code":"print(1)"}`}},
		Usage:        llm.Usage{PromptTokens: 10, CompletionTokens: 5},
		FinishReason: "tool_calls",
	}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response %+v, want %+v", resp, want)
	}
	if reqs := s.Requests(); len(reqs) != 1 || reqs[0].Stream {
		t.Errorf("requests %+v: want one without streaming", reqs)
	}
}

func TestStreamToolCalls(t *testing.T) {
	calls := []llmtest.ToolCall{
		{ID: "call_a", Name: "run_python", Arguments: `{"code":"import pandas as pd\ndf = pd.read_csv('superstore.csv')"}`},
		{ID: "call_b", Name: "read_file", Arguments: `{"path":"notes.txt","max_bytes":4096}`},
	}
	s := llmtest.NewServer(t, llmtest.Reply{Content: "Two things first.", ToolCalls: calls})
	s.SetChunkSize(2)
	c, _ := newClient(t, s.URL, nil)
	req := userRequest("load it")
	req.Tools = []llm.Tool{
		{Name: "run_python", Description: "Run Python.", Parameters: []byte(`{"type":"object","properties":{"code":{"type":"string"}}}`)},
		{Name: "read_file", Description: "Read a file."},
	}
	// An earlier round of tool calling travels back to the server.
	req.Messages = append(req.Messages,
		llm.Message{Role: "assistant", ToolCalls: []llm.ToolCall{{ID: "call_0", Name: "run_python", Arguments: `{"code":"1+1"}`}}},
		llm.Message{Role: "tool", ToolCallID: "call_0", Content: "2"},
	)
	var d deltas
	resp, err := c.Stream(t.Context(), req, d.add)
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.ToolCall{
		{ID: "call_a", Name: "run_python", Arguments: calls[0].Arguments},
		{ID: "call_b", Name: "read_file", Arguments: calls[1].Arguments},
	}
	if !reflect.DeepEqual(resp.ToolCalls, want) {
		t.Errorf("tool calls %+v, want %+v", resp.ToolCalls, want)
	}
	if resp.Content != "Two things first." || d.text() != resp.Content || resp.FinishReason != "tool_calls" {
		t.Errorf("content %q (deltas %q), finish %q", resp.Content, d.text(), resp.FinishReason)
	}
	got := s.Requests()[0]
	if !reflect.DeepEqual(got.Tools, []string{"run_python", "read_file"}) {
		t.Errorf("tools sent %v", got.Tools)
	}
	m := got.Messages
	if len(m) != 4 || m[2].ToolCalls[0] != (llmtest.ToolCall{ID: "call_0", Name: "run_python", Arguments: `{"code":"1+1"}`}) ||
		m[3].Role != "tool" || m[3].ToolCallID != "call_0" || m[3].Content != "2" {
		t.Errorf("messages sent %+v", m)
	}
}

func TestSamplingAndModelPassedThrough(t *testing.T) {
	f := func(v float32) *float32 { return &v }
	tests := []struct {
		name              string
		temperature, topP *float32
		maxTokens         int
	}{
		{"set", f(0.2), f(0.9), 256},
		{"unset", nil, nil, 0},
		{"zero temperature", f(0), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.NewServer(t, llmtest.Reply{Content: "ok"})
			c, _ := newClient(t, s.URL, nil)
			req := userRequest("hi")
			req.Model, req.Temperature, req.TopP, req.MaxTokens = "qwen-max", tt.temperature, tt.topP, tt.maxTokens
			if _, err := c.Stream(t.Context(), req, nil); err != nil {
				t.Fatal(err)
			}
			got := s.Requests()[0]
			if got.Model != "qwen-max" || got.MaxTokens != tt.maxTokens {
				t.Errorf("model %q max tokens %d", got.Model, got.MaxTokens)
			}
			same := func(got, want *float32) bool {
				if got == nil || want == nil {
					return got == want
				}
				return *got-*want < 1e-6 && *want-*got < 1e-6
			}
			if !same(got.Temperature, tt.temperature) || !same(got.TopP, tt.topP) {
				t.Errorf("temperature %v top_p %v, want %v %v", got.Temperature, got.TopP, tt.temperature, tt.topP)
			}
		})
	}
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	limited := llmtest.Reply{Status: 429, RetryAfter: "2", ErrorMessage: "Rate limit reached for requests"}
	s := llmtest.NewServer(t, limited, limited, llmtest.Reply{Content: "done"})
	c, rec := newClient(t, s.URL, nil)
	var perRequest []llm.RetryEvent
	req := userRequest("hi")
	req.OnRetry = func(ev llm.RetryEvent) { perRequest = append(perRequest, ev) }
	resp, err := c.Stream(t.Context(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "done" || resp.Retries != 2 {
		t.Errorf("content %q retries %d, want done after 2", resp.Content, resp.Retries)
	}
	if want := []time.Duration{2 * time.Second, 2 * time.Second}; !reflect.DeepEqual(rec.waits, want) {
		t.Errorf("waits %v, want %v", rec.waits, want)
	}
	if len(rec.events) != 2 || !reflect.DeepEqual(rec.events, perRequest) {
		t.Fatalf("config events %+v, request events %+v: want the same 2", rec.events, perRequest)
	}
	for i, ev := range rec.events {
		if ev.Attempt != i+1 || ev.Wait != 2*time.Second || !strings.HasPrefix(ev.Reason, "429 rate limited") || strings.Contains(ev.Reason, "\n") {
			t.Errorf("event %d: %+v", i, ev)
		}
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestRetryAfterCappedAtTwoMinutes(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Status: 429, RetryAfter: "3600"}, llmtest.Reply{Content: "ok"})
	c, rec := newClient(t, s.URL, nil)
	if _, err := c.Stream(t.Context(), userRequest("hi"), nil); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{2 * time.Minute}; !reflect.DeepEqual(rec.waits, want) {
		t.Errorf("waits %v, want %v", rec.waits, want)
	}
}

func TestServerErrorRetried(t *testing.T) {
	s := llmtest.NewServer(t,
		llmtest.Reply{Status: 500, ErrorMessage: "The server had an error while processing your request."},
		llmtest.Reply{Status: 503, RawBody: "upstream connect error\nor disconnect"},
		llmtest.Reply{Content: "fine"})
	c, rec := newClient(t, s.URL, func(cfg *llm.Config) { cfg.MinBackoff, cfg.MaxBackoff = time.Second, 10*time.Second })
	resp, err := c.Stream(t.Context(), userRequest("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "fine" || resp.Retries != 2 {
		t.Errorf("content %q retries %d", resp.Content, resp.Retries)
	}
	// The first retry waits MinBackoff; the second up to twice that.
	if len(rec.waits) != 2 || rec.waits[0] != time.Second || rec.waits[1] < time.Second || rec.waits[1] > 2*time.Second {
		t.Errorf("waits %v", rec.waits)
	}
	wantReasons := []string{
		"500 internal server error: The server had an error while processing your request.",
		"503 service unavailable: upstream connect error",
	}
	for i, ev := range rec.events {
		if ev.Reason != wantReasons[i] {
			t.Errorf("reason %d %q, want %q", i, ev.Reason, wantReasons[i])
		}
	}
}

func TestStreamCutMidAnswerRestarts(t *testing.T) {
	const answer = "First, load the data. Then group by region."
	s := llmtest.NewServer(t, llmtest.Reply{Content: answer, DropAfter: 10}, llmtest.Reply{Content: answer})
	c, rec := newClient(t, s.URL, nil)
	var d deltas
	req := userRequest("plan")
	req.OnRestart = d.restart
	resp, err := c.Stream(t.Context(), req, d.add)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != answer || d.text() != answer || d.restarts != 1 || resp.Retries != 1 {
		t.Errorf("content %q, shown %q after %d restarts, retries %d", resp.Content, d.text(), d.restarts, resp.Retries)
	}
	if len(rec.events) != 1 || rec.events[0].Reason != "stream closed mid-answer" {
		t.Errorf("events %+v", rec.events)
	}
}

func TestMalformedChunkRetried(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Content: "hello there", Malformed: true}, llmtest.Reply{Content: "hello there"})
	c, rec := newClient(t, s.URL, nil)
	var d deltas
	req := userRequest("hi")
	req.OnRestart = d.restart
	resp, err := c.Stream(t.Context(), req, d.add)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "hello there" || d.text() != "hello there" || d.restarts != 1 || resp.Retries != 1 {
		t.Errorf("content %q, shown %q after %d restarts, retries %d", resp.Content, d.text(), d.restarts, resp.Retries)
	}
	if len(rec.events) != 1 || rec.events[0].Reason != "malformed JSON from the server" {
		t.Errorf("events %+v", rec.events)
	}
}

func TestStalledStreamRetried(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Content: "hello there", StallAfter: 4}, llmtest.Reply{Content: "hello there"})
	c, rec := newClient(t, s.URL, func(cfg *llm.Config) { cfg.StallTimeout = 50 * time.Millisecond })
	resp, err := c.Stream(t.Context(), userRequest("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "hello there" || resp.Retries != 1 {
		t.Errorf("content %q retries %d", resp.Content, resp.Retries)
	}
	if len(rec.events) != 1 || rec.events[0].Reason != "stream stalled: no data for 50ms" {
		t.Errorf("events %+v", rec.events)
	}
}

func TestGivesUpAfterMaxRetries(t *testing.T) {
	s := llmtest.NewServer(t)
	s.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Status: 502, ErrorMessage: "bad gateway"} })
	c, rec := newClient(t, s.URL, func(cfg *llm.Config) { cfg.MaxRetries = 2 })
	_, err := c.Stream(t.Context(), userRequest("hi"), nil)
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want *llm.Error", err)
	}
	if e.Kind != llm.Server || e.Status != 502 || e.Attempts != 3 {
		t.Errorf("error %+v", e)
	}
	want := "the LLM server at " + s.URL + " failed (502): bad gateway (gave up after 3 attempts)"
	if err.Error() != want {
		t.Errorf("message\n%q, want\n%q", err.Error(), want)
	}
	if n := len(s.Requests()); n != 3 || len(rec.waits) != 2 {
		t.Errorf("%d requests, %d waits; want 3 and 2", n, len(rec.waits))
	}
}

// chain returns the messages of err and everything it wraps.
func chain(err error) []string {
	var out []string
	for ; err != nil; err = errors.Unwrap(err) {
		out = append(out, err.Error())
	}
	return out
}

func TestErrorsNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		reply  llmtest.Reply
		tools  bool
		kind   llm.ErrorKind
		status int
		msg    string
	}{
		{"bad request", llmtest.Reply{Status: 400, ErrorMessage: "Invalid value for 'temperature': 3 is greater than the maximum of 2.", ErrorCode: "invalid_value"},
			false, llm.BadRequest, 400, `the LLM server rejected the request for model "test-model" (400): Invalid value for 'temperature': 3 is greater than the maximum of 2.`},
		{"openai context", llmtest.Reply{Status: 400, ErrorMessage: "This model's maximum context length is 8192 tokens.\nPlease reduce.", ErrorCode: "context_length_exceeded"},
			false, llm.ContextLength, 400, `the prompt is longer than model "test-model"'s context window (400): This model's maximum context length is 8192 tokens. Please reduce.`},
		{"vllm context", llmtest.Reply{Status: 400, RawBody: `{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5120 tokens (5120 in the messages, 0 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}`},
			false, llm.ContextLength, 400, `the prompt is longer than model "test-model"'s context window (400): This model's maximum context length is 4096 tokens. However, you requested 5120 tokens (5120 in the messages, 0 in the completion). Please reduce the length of the messages or completion.`},
		{"vllm v1 context", llmtest.Reply{Status: 400, RawBody: `{"object":"error","message":"The decoder prompt (length 9000) is longer than the maximum model length of 8192. Make sure that ` + "`max_model_len`" + ` is no smaller than the number of text tokens.","type":"BadRequestError","code":400}`},
			false, llm.ContextLength, 400, `the prompt is longer than model "test-model"'s context window (400): The decoder prompt (length 9000) is longer than the maximum model length of 8192. Make sure that ` + "`max_model_len`" + ` is no smaller than the number of text tokens.`},
		{"llama.cpp context", llmtest.Reply{Status: 400, RawBody: `{"error":{"code":400,"message":"request (4476 tokens) exceeds the available context size (4096 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":4476,"n_ctx":4096}}`},
			false, llm.ContextLength, 400, `the prompt is longer than model "test-model"'s context window (400): request (4476 tokens) exceeds the available context size (4096 tokens), try increasing it`},
		{"ollama context", llmtest.Reply{Status: 500, RawBody: `{"error":"input length exceeds the context length"}`},
			false, llm.ContextLength, 500, `the prompt is longer than model "test-model"'s context window (500): input length exceeds the context length`},
		{"ollama tools", llmtest.Reply{Status: 400, ErrorMessage: "registry.ollama.ai/library/gemma:2b does not support tools"},
			true, llm.ToolsUnsupported, 400, `model "test-model" at {base} does not support tool calling (400): registry.ollama.ai/library/gemma:2b does not support tools`},
		{"vllm tools", llmtest.Reply{Status: 400, ErrorMessage: `"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set`},
			true, llm.ToolsUnsupported, 400, `model "test-model" at {base} does not support tool calling (400): "auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set`},
		{"llama.cpp tools", llmtest.Reply{Status: 500, ErrorMessage: "tools param requires --jinja flag"},
			true, llm.ToolsUnsupported, 500, `model "test-model" at {base} does not support tool calling (500): tools param requires --jinja flag`},
		{"quota", llmtest.Reply{Status: 429, ErrorMessage: "You exceeded your current quota.", ErrorCode: "insufficient_quota"},
			false, llm.Quota, 429, "the LLM account has run out of quota (429): You exceeded your current quota."},
		{"wrong path", llmtest.Reply{Status: 404, RawBody: "404 page not found"},
			false, llm.NotFound, 404, "no chat completions endpoint at {base} (404)"},
		{"ollama model", llmtest.Reply{Status: 404, RawBody: `{"error":"model 'llama9' not found, try pulling it first"}`},
			false, llm.ModelNotFound, 404, `model "test-model" not found at {base} (404)`},
		{"forbidden", llmtest.Reply{Status: 403, ErrorMessage: "Project does not have access to model test-model"},
			false, llm.Auth, 403, `the LLM server refused access to model "test-model" (403): Project does not have access to model test-model`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.NewServer(t, tt.reply)
			c, rec := newClient(t, s.URL, nil)
			req := userRequest("hi")
			if tt.tools {
				req.Tools = []llm.Tool{{Name: "run_python"}}
			}
			_, err := c.Stream(t.Context(), req, nil)
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want *llm.Error", err)
			}
			if e.Kind != tt.kind || e.Status != tt.status {
				t.Errorf("kind %v status %d, want %v %d", e.Kind, e.Status, tt.kind, tt.status)
			}
			if want := strings.ReplaceAll(tt.msg, "{base}", s.URL); err.Error() != want {
				t.Errorf("message\n%q, want\n%q", err.Error(), want)
			}
			if len(s.Requests()) != 1 || len(rec.events) != 0 {
				t.Errorf("%d requests, %d retries; want 1 and none", len(s.Requests()), len(rec.events))
			}
		})
	}
}

func TestAuthErrorHidesKey(t *testing.T) {
	s := llmtest.NewServer(t)
	s.RequireKey("sk-the-right-one")
	c, rec := newClient(t, s.URL, nil)
	_, err := c.Stream(t.Context(), userRequest("hi"), nil)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.Auth || e.Status != 401 {
		t.Fatalf("error %#v, want an Auth *llm.Error with status 401", err)
	}
	if want := "the LLM server rejected the API key (401)"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	for _, m := range append(chain(err), e.Message) {
		if strings.Contains(m, "SENTINEL") {
			t.Errorf("an error holds the API key: %q", m)
		}
	}
	if n := len(s.Requests()); n != 1 || len(rec.events) != 0 {
		t.Errorf("%d requests and %d retries, want 1 and none", n, len(rec.events))
	}
}

func TestServerMessageRedactsKey(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Status: 400, ErrorMessage: "bad header Bearer " + sentinelKey})
	c, _ := newClient(t, s.URL, nil)
	_, err := c.Stream(t.Context(), userRequest("hi"), nil)
	if err == nil || strings.Contains(err.Error(), sentinelKey) || !strings.Contains(err.Error(), "bad header Bearer [API key]") {
		t.Errorf("error %v", err)
	}
}

func TestUnknownModel(t *testing.T) {
	s := llmtest.NewServer(t)
	s.Models("gpt-4o")
	c, _ := newClient(t, s.URL, nil)
	req := userRequest("hi")
	req.Model = "gpt-9-turbo"
	_, err := c.Stream(t.Context(), req, nil)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.ModelNotFound || e.Model != "gpt-9-turbo" {
		t.Fatalf("error %v, want ModelNotFound for gpt-9-turbo", err)
	}
	if want := `model "gpt-9-turbo" not found at ` + s.URL + ` (404)`; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String() + "/v1"
	l.Close()
	c, rec := newClient(t, "http://user:secret@"+l.Addr().String()+"/v1/", func(cfg *llm.Config) { cfg.MaxRetries = 1 })
	_, err = c.Stream(t.Context(), userRequest("hi"), nil)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.Network || e.Attempts != 2 {
		t.Fatalf("error %v, want Network after 2 attempts", err)
	}
	want := "cannot reach the LLM server at " + base + ": connection refused (gave up after 2 attempts)"
	if err.Error() != want {
		t.Errorf("message\n%q, want\n%q", err.Error(), want)
	}
	if len(rec.events) != 1 || rec.events[0].Reason != "cannot reach the server: connection refused" {
		t.Errorf("events %+v", rec.events)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Status: 500})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The real Sleep, with a wait of an hour: only the cancellation ends it.
	c, err := llm.New(llm.Config{BaseURL: s.URL, MinBackoff: time.Hour, MaxBackoff: time.Hour,
		OnRetry: func(llm.RetryEvent) { cancel() }})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Stream(ctx, userRequest("hi"), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("returned after %s", d)
	}
}

func TestCancelDuringStream(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Content: "hello there", StallAfter: 3})
	ctx, cancel := context.WithCancel(t.Context())
	c, rec := newClient(t, s.URL, nil)
	_, err := c.Stream(ctx, userRequest("hi"), func(string) { cancel() })
	if !errors.Is(err, context.Canceled) || len(rec.events) != 0 {
		t.Errorf("error %v after %d retries, want context.Canceled and none", err, len(rec.events))
	}
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"localhost:11434/v1", "ftp://example.com", "http://"} {
		if _, err := llm.New(llm.Config{BaseURL: u}); err == nil || !strings.Contains(err.Error(), "OPENAI_BASE_URL") {
			t.Errorf("New(%q): %v, want an error naming OPENAI_BASE_URL", u, err)
		}
	}
	c, err := llm.New(llm.Config{})
	if err != nil || c.BaseURL() != llm.DefaultBaseURL {
		t.Errorf("default base URL %q, %v", c.BaseURL(), err)
	}
}

func TestConcurrentStreams(t *testing.T) {
	s := llmtest.NewServer(t)
	s.Respond(func(req llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Content: "echo: " + req.Messages[len(req.Messages)-1].Content}
	})
	c, _ := newClient(t, s.URL, nil)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			q := strings.Repeat("q", i+1)
			resp, err := c.Stream(t.Context(), userRequest(q), nil)
			if err == nil && resp.Content != "echo: "+q {
				err = errors.New("got " + resp.Content)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("stream %d: %v", i, err)
		}
	}
}
