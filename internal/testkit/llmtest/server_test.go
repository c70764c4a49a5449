package llmtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func post(t *testing.T, s *Server, body string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// events reads the data lines of an SSE body.
func events(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func TestStreamShape(t *testing.T) {
	s := NewServer(t, Reply{Content: "héllo!", ToolCalls: []ToolCall{{ID: "call_1", Name: "f", Arguments: `{"a":1}`}}, Usage: &Usage{PromptTokens: 7, CompletionTokens: 3}})
	s.SetChunkSize(2)
	resp := post(t, s, `{"model":"m","stream":true,"stream_options":{"include_usage":true},"temperature":0.5,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}`, nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	ev := events(t, resp.Body)
	if ev[len(ev)-1] != "[DONE]" {
		t.Errorf("last event %q, want [DONE]", ev[len(ev)-1])
	}
	var text, args strings.Builder
	var finish string
	var usage *Usage
	for _, e := range ev[:len(ev)-1] {
		var c struct {
			Choices []struct {
				Delta struct {
					Content   string         `json:"content"`
					ToolCalls []wireToolCall `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatalf("chunk %q: %v", e, err)
		}
		if c.Usage != nil {
			usage = &Usage{c.Usage.Prompt, c.Usage.Completion}
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Index == nil || *tc.Index != 0 {
					t.Errorf("tool call delta without index 0: %q", e)
				}
				args.WriteString(tc.Function.Arguments)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
	}
	if text.String() != "héllo!" || args.String() != `{"a":1}` || finish != "tool_calls" {
		t.Errorf("text %q args %q finish %q", text.String(), args.String(), finish)
	}
	if usage == nil || *usage != (Usage{7, 3}) {
		t.Errorf("usage %+v", usage)
	}
	// role chunk + 3 content + 1 tool header + 4 argument pieces + finish + usage.
	if len(ev)-1 != 11 {
		t.Errorf("%d chunks, want 11", len(ev)-1)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].Model != "m" || !reqs[0].Stream || !reqs[0].IncludeUsage || *reqs[0].Temperature != 0.5 || reqs[0].TopP != nil || reqs[0].Tools[0] != "f" || reqs[0].Messages[0].Content != "hi" {
		t.Errorf("recorded %+v", reqs)
	}
}

func TestNonStreaming(t *testing.T) {
	s := NewServer(t, Reply{Content: "ok"})
	resp := post(t, s, `{"model":"m","messages":[{"role":"user","content":"12345678"}]}`, nil)
	var body struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			Prompt int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Choices[0].Message.Content != "ok" || body.Usage.Prompt != 2 {
		t.Errorf("got %+v", body)
	}
}

func TestErrors(t *testing.T) {
	s := NewServer(t, Reply{Status: 429, RetryAfter: "2", ErrorMessage: "slow down"}, Reply{Status: 503, RawBody: "upstream busy\nmore"})
	s.RequireKey("sk-good")
	s.Models("m")
	tests := []struct {
		name, model, key string
		status           int
		want             string
	}{
		{"bad key", "m", "sk-bad", 401, `"code":"invalid_api_key"`},
		{"unknown model", "x", "sk-good", 404, `"code":"model_not_found"`},
		{"429", "m", "sk-good", 429, `"message":"slow down"`},
		{"plain", "m", "sk-good", 503, "upstream busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, s, `{"model":"`+tt.model+`","messages":[]}`, map[string]string{"Authorization": "Bearer " + tt.key})
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Errorf("%d %s, want %d with %s", resp.StatusCode, b, tt.status, tt.want)
			}
			if tt.status == 429 && resp.Header.Get("Retry-After") != "2" {
				t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
		})
	}
	if n := len(s.Requests()); n != 4 {
		t.Errorf("%d requests recorded, want 4", n)
	}
}

func TestRespondTakesPrecedence(t *testing.T) {
	s := NewServer(t, Reply{Content: "queued"})
	s.Respond(func(req Request) Reply { return Reply{Content: "dynamic " + req.Model} })
	resp := post(t, s, `{"model":"m","messages":[]}`, nil)
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"content":"dynamic m"`) {
		t.Errorf("body %s", b)
	}
}

func TestModelsList(t *testing.T) {
	s := NewServer(t)
	s.Models("a", "b")
	resp, err := http.Get(s.URL + "/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"id":"a"`) || !strings.Contains(string(b), `"id":"b"`) {
		t.Errorf("body %s", b)
	}
}

func TestPastTheEnd(t *testing.T) {
	ft := &fakeTB{TB: t}
	s := NewServer(ft)
	resp := post(t, s, `{"model":"m","messages":[]}`, nil)
	if msg := ft.message(); resp.StatusCode != 500 || !strings.Contains(msg, "past the end of the script") {
		t.Errorf("status %d, test error %q", resp.StatusCode, msg)
	}
}

// fakeTB records Errorf instead of failing.
type fakeTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msg = fmt.Sprintf(format, args...)
}

func (f *fakeTB) message() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg
}

// TestPace: a paced answer streams the same events as an unpaced one, and
// stops when its request is canceled in the middle of a pause.
func TestPace(t *testing.T) {
	const body = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	plain := NewServer(t, Reply{Content: "paced answer"})
	want := events(t, post(t, plain, body, nil).Body)

	paced := NewServer(t, Reply{Content: "paced answer"})
	paced.SetPace(Pace{FirstDelta: time.Millisecond, PerDelta: time.Millisecond})
	if got := events(t, post(t, paced, body, nil).Body); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("paced events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	stalled := NewServer(t, Reply{Content: "never sent"})
	stalled.SetPace(Pace{FirstDelta: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, stalled.URL+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cancel()
	if b, err := io.ReadAll(resp.Body); err == nil || len(b) > 0 {
		t.Errorf("canceled paced answer: %q, %v; want nothing and an error", b, err)
	}
	stalled.srv.Close() // waits for the handler: it must have returned
}
