package llm_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/redact"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// TestSilentServerRetried: a server that never answers is given up after
// StallTimeout, not after the whole RequestTimeout, and the request retried.
func TestSilentServerRetried(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Silent: true}, llmtest.Reply{Content: "hello there"})
	c, rec := newClient(t, s.URL, func(cfg *llm.Config) {
		cfg.StallTimeout = 50 * time.Millisecond
		cfg.RequestTimeout = 5 * time.Second // what the attempt would wait without the watchdog
	})
	resp, err := c.Stream(t.Context(), userRequest("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "hello there" || resp.Retries != 1 {
		t.Errorf("content %q retries %d", resp.Content, resp.Retries)
	}
	if len(rec.events) != 1 || rec.events[0].Reason != "server silent: no answer for 50ms" {
		t.Errorf("events %+v", rec.events)
	}
}

const cutNote = "\n\n[analyst: this answer was cut at 100 bytes, the limit of one message (--max-message); the rest was not read]"

// TestLongAnswerCut: an answer past MaxMessageBytes is cut there, on a
// character boundary, says so, and its tool calls are dropped.
func TestLongAnswerCut(t *testing.T) {
	tests := []struct {
		name    string
		reply   llmtest.Reply
		content string
	}{
		{"ascii", llmtest.Reply{Content: strings.Repeat("a", 64<<10)}, strings.Repeat("a", 100)},
		{"multi-byte", llmtest.Reply{Content: strings.Repeat("é", 1000)}, strings.Repeat("é", 50)},
		{"odd cut", llmtest.Reply{Content: "x" + strings.Repeat("é", 1000)}, "x" + strings.Repeat("é", 49)},
		{"tool call arguments", llmtest.Reply{Content: "running it", ToolCalls: []llmtest.ToolCall{
			{ID: "call_1", Name: "execute_code", Arguments: `{"code": "` + strings.Repeat("1", 1000) + `"}`},
		}}, "running it"},
	}
	for _, tt := range tests {
		for _, stream := range []bool{true, false} {
			name := tt.name + "/complete"
			if stream {
				name = tt.name + "/stream"
			}
			t.Run(name, func(t *testing.T) {
				s := llmtest.NewServer(t, tt.reply)
				c, _ := newClient(t, s.URL, func(cfg *llm.Config) { cfg.MaxMessageBytes = 100 })
				var shown strings.Builder
				var resp llm.Response
				var err error
				if stream {
					resp, err = c.Stream(t.Context(), userRequest("hi"), func(d string) { shown.WriteString(d) })
				} else {
					resp, err = c.Complete(t.Context(), userRequest("hi"))
					shown.WriteString(resp.Content)
				}
				if err != nil {
					t.Fatal(err)
				}
				want := tt.content + cutNote
				if resp.Content != want || shown.String() != want {
					t.Errorf("content %q\nshown %q\nwant %q", resp.Content, shown.String(), want)
				}
				if !resp.Truncated || resp.FinishReason != "length" || len(resp.ToolCalls) != 0 {
					t.Errorf("truncated %v, finish %q, %d tool calls; want a truncated answer without tool calls", resp.Truncated, resp.FinishReason, len(resp.ToolCalls))
				}
			})
		}
	}
}

func TestAnswerWithinLimitKept(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Content: strings.Repeat("a", 100)})
	c, _ := newClient(t, s.URL, func(cfg *llm.Config) { cfg.MaxMessageBytes = 100 })
	resp, err := c.Stream(t.Context(), userRequest("hi"), nil)
	if err != nil || resp.Content != strings.Repeat("a", 100) || resp.Truncated {
		t.Errorf("Stream = %q (truncated %v), %v; want the whole answer", resp.Content, resp.Truncated, err)
	}
}

// TestAnswerCutInsideASecret: a cut that falls inside a secret shows no piece
// of it: what may begin the secret is dropped with the rest.
func TestAnswerCutInsideASecret(t *testing.T) {
	const secret = "gw-SENTINEL-token-93b1"
	r := &redact.Redactor{}
	r.Add("gateway token", secret)
	s := llmtest.NewServer(t, llmtest.Reply{Content: "The token is " + secret + " and more"})
	s.SetChunkSize(3)
	limit := len("The token is gw-SENTINEL")
	c, _ := newClient(t, s.URL, func(cfg *llm.Config) { cfg.Redactor, cfg.MaxMessageBytes = r, limit })
	var shown strings.Builder
	resp, err := c.Stream(t.Context(), userRequest("hi"), func(d string) { shown.WriteString(d) })
	if err != nil {
		t.Fatal(err)
	}
	want := "The token is " + fmt.Sprintf("\n\n[analyst: this answer was cut at %d bytes, the limit of one message (--max-message); the rest was not read]", limit)
	if resp.Content != want || shown.String() != want || !resp.Truncated {
		t.Errorf("content %q\nshown %q\nwant %q", resp.Content, shown.String(), want)
	}
}
