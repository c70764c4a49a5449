package llm_test

import (
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/redact"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// TestRedactor: with Config.Redactor, no delta, content or tool call
// argument holds the secret, nor any piece of it long enough to tell, even
// though the stream splits it across many deltas; a prefix that never
// becomes the secret is shown whole at the end.
func TestRedactor(t *testing.T) {
	const secret = "gw-SENTINEL-token-93b1"
	content := "The token is " + secret + ", and it ends with gw-SENT"
	want := "The token is [redacted gateway token], and it ends with gw-SENT"
	calls := []llmtest.ToolCall{{ID: "c1", Name: "execute_code", Arguments: `{"code":"print('` + secret + `')"}`}}
	wantArgs := `{"code":"print('[redacted gateway token]')"}`
	r := &redact.Redactor{}
	r.Add("gateway token", secret)
	withRedactor := func(cfg *llm.Config) { cfg.Redactor = r }

	// The second case breaks off mid-secret and is retried: what was held
	// back of the void attempt is not shown.
	for name, replies := range map[string][]llmtest.Reply{
		"stream":         {{Content: content, ToolCalls: calls}},
		"retried stream": {{Content: "abc gw-SENTINEL", DropAfter: 15}, {Content: content, ToolCalls: calls}},
	} {
		t.Run(name, func(t *testing.T) {
			s := llmtest.NewServer(t, replies...)
			s.SetChunkSize(3)
			c, _ := newClient(t, s.URL, withRedactor)
			var d deltas
			req := userRequest("hi")
			req.OnRestart = d.restart
			resp, err := c.Stream(t.Context(), req, d.add)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range d.pieces {
				if strings.Contains(p, "SENTINEL-") {
					t.Errorf("delta %q holds part of the secret", p)
				}
			}
			if resp.Content != want || d.text() != want || d.restarts != len(replies)-1 {
				t.Errorf("content %q, deltas %q after %d restarts, want %q", resp.Content, d.text(), d.restarts, want)
			}
			if len(resp.ToolCalls) != 1 || resp.ToolCalls[0].Arguments != wantArgs {
				t.Errorf("tool calls %+v", resp.ToolCalls)
			}
		})
	}
	t.Run("complete", func(t *testing.T) {
		s := llmtest.NewServer(t, llmtest.Reply{Content: content, ToolCalls: calls})
		c, _ := newClient(t, s.URL, withRedactor)
		resp, err := c.Complete(t.Context(), userRequest("hi"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Content != want || len(resp.ToolCalls) != 1 || resp.ToolCalls[0].Arguments != wantArgs {
			t.Errorf("response %+v", resp)
		}
	})
}
