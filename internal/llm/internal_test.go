package llm

import (
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{"0", 0},
		{"-3", 0},
		{"7200", maxRetryAfter},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second},
		{"Sat, 01 Mar 2025 11:00:00 GMT", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	c := &Client{cfg: Config{MinBackoff: time.Second, MaxBackoff: 30 * time.Second}}
	for n := 1; n <= 40; n++ {
		ceiling := min(30*time.Second, time.Second<<min(n-1, 20))
		for range 50 {
			if d := c.backoff(n, 0); d < time.Second || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want within [1s, %v]", n, d, ceiling)
			}
		}
	}
	if d := c.backoff(3, 90*time.Second); d != 90*time.Second {
		t.Errorf("a Retry-After of 90s gives %v, want it honoured beyond MaxBackoff", d)
	}
	if d := c.backoff(3, time.Hour); d != maxRetryAfter {
		t.Errorf("a Retry-After of 1h gives %v, want %v", d, maxRetryAfter)
	}
}

func TestBodyMessage(t *testing.T) {
	tests := []struct {
		name, body, wantMsg, wantCode string
	}{
		{"openai", `{"error":{"message":"Invalid model","type":"invalid_request_error","param":null,"code":"model_not_found"}}`, "Invalid model", "model_not_found"},
		{"openai numeric code", `{"error":{"message":"nope","type":"x","code":404}}`, "nope", "404"},
		{"ollama", `{"error":"model 'x' not found"}`, "model 'x' not found", ""},
		{"vllm", `{"object":"error","message":"The model ` + "`x`" + ` does not exist.","type":"NotFoundError","param":null,"code":404}`, "The model `x` does not exist.", "404"},
		{"fastapi", `{"detail":"Not Found"}`, "Not Found", ""},
		{"fastapi validation", `{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}`, "field required", ""},
		{"plain", "upstream request timeout\nsecond line", "upstream request timeout", ""},
		{"html", "<html><body>502 Bad Gateway</body></html>", "Bad Gateway", ""},
		{"empty", "", "Bad Gateway", ""},
		{"unknown json", `{"foo":1}`, "Bad Gateway", ""},
		{"long", strings.Repeat("x", 500), strings.Repeat("x", maxMessage-1) + "…", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, code := bodyMessage([]byte(tt.body), "Bad Gateway")
			if msg != tt.wantMsg || code != tt.wantCode {
				t.Errorf("got %q %q, want %q %q", msg, code, tt.wantMsg, tt.wantCode)
			}
		})
	}
}

func TestToolCallsWithoutIndex(t *testing.T) {
	idx := func(i int) *int { return &i }
	fn := func(name, args string) openai.FunctionCall { return openai.FunctionCall{Name: name, Arguments: args} }
	var tc toolCalls
	// Indexed deltas, interleaved, with the name repeated in full.
	tc.add([]openai.ToolCall{{Index: idx(0), ID: "a", Function: fn("f", "")}})
	tc.add([]openai.ToolCall{{Index: idx(1), ID: "b", Function: fn("g", `{"y"`)}})
	tc.add([]openai.ToolCall{{Index: idx(0), Function: fn("f", `{"x":1}`)}})
	tc.add([]openai.ToolCall{{Index: idx(1), Function: fn("", `:2}`)}})
	// A server that sends whole calls without an index.
	tc.add([]openai.ToolCall{{ID: "c", Function: fn("h", `{}`)}})
	want := []ToolCall{{"a", "f", `{"x":1}`}, {"b", "g", `{"y":2}`}, {"c", "h", `{}`}}
	if len(tc.list) != len(want) {
		t.Fatalf("got %+v, want %+v", tc.list, want)
	}
	for i := range want {
		if tc.list[i] != want[i] {
			t.Errorf("call %d: %+v, want %+v", i, tc.list[i], want[i])
		}
	}
}

func TestReasoningModelsGetMaxCompletionTokens(t *testing.T) {
	r := chatRequest(Request{Model: "gpt-5-mini", MaxTokens: 100})
	if r.MaxTokens != 0 || r.MaxCompletionTokens != 100 {
		t.Errorf("gpt-5-mini: max_tokens %d, max_completion_tokens %d", r.MaxTokens, r.MaxCompletionTokens)
	}
	r = chatRequest(Request{Model: "qwen2.5-coder", MaxTokens: 100})
	if r.MaxTokens != 100 || r.MaxCompletionTokens != 0 {
		t.Errorf("qwen2.5-coder: max_tokens %d, max_completion_tokens %d", r.MaxTokens, r.MaxCompletionTokens)
	}
}

func TestDisplayURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://api.openai.com/v1/":              "https://api.openai.com/v1",
		"http://user:pw@localhost:11434/v1?key=k": "http://localhost:11434/v1",
	} {
		if got := displayURL(raw); got != want {
			t.Errorf("displayURL(%q) = %q, want %q", raw, got, want)
		}
	}
}
