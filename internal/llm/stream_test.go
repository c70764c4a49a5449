package llm_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// sseServer answers the n-th chat request with bodies[n] as an event stream
// and returns its base URL.
func sseServer(t *testing.T, bodies ...string) string {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if len(bodies) == 0 {
			mu.Unlock()
			t.Errorf("unexpected request %s", r.URL.Path)
			http.Error(w, "no more", http.StatusInternalServerError)
			return
		}
		body := bodies[0]
		bodies = bodies[1:]
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func chunk(content, finish string) string {
	f := "null"
	if finish != "" {
		f = `"` + finish + `"`
	}
	return fmt.Sprintf(`data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":%q},"finish_reason":%s}]}`+"\n\n", content, f)
}

func TestStreamEdgeCases(t *testing.T) {
	good := chunk("ok", "") + chunk("", "stop") + "data: [DONE]\n\n"
	tests := []struct {
		name   string
		first  string
		reason string
	}{
		{"error event mid-stream", chunk("par", "") + `data: {"error":{"message":"The server is overloaded","type":"server_error"}}` + "\n\n",
			"the server reported an error mid-answer: The server is overloaded"},
		{"clean end without finish reason", chunk("par", ""), "stream closed mid-answer"},
		{"clean end after a blank keep-alive", chunk("par", "") + ": keep-alive\n\n", "stream closed mid-answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newClient(t, sseServer(t, tt.first, good), nil)
			restarts := 0
			req := userRequest("hi")
			req.OnRestart = func() { restarts++ }
			resp, err := c.Stream(t.Context(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Content != "ok" || resp.Retries != 1 || restarts != 1 {
				t.Errorf("content %q retries %d restarts %d", resp.Content, resp.Retries, restarts)
			}
			if len(rec.events) != 1 || rec.events[0].Reason != tt.reason {
				t.Errorf("events %+v, want reason %q", rec.events, tt.reason)
			}
		})
	}
}

func TestFinishWithoutDoneIsAccepted(t *testing.T) {
	c, _ := newClient(t, sseServer(t, chunk("all", "")+chunk(" here", "length")), nil)
	resp, err := c.Stream(t.Context(), userRequest("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "all here" || resp.FinishReason != "length" || !resp.Usage.Estimated {
		t.Errorf("response %+v", resp)
	}
}

func TestCompleteTimeoutRetried(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Content: "slow answer", StallAfter: 1}, llmtest.Reply{Content: "quick"})
	c, rec := newClient(t, s.URL, func(cfg *llm.Config) { cfg.RequestTimeout = 50 * time.Millisecond })
	resp, err := c.Complete(t.Context(), userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "quick" || resp.Retries != 1 {
		t.Errorf("content %q retries %d", resp.Content, resp.Retries)
	}
	if len(rec.events) != 1 || rec.events[0].Reason != "timed out after 50ms" {
		t.Errorf("events %+v", rec.events)
	}
}

func TestCompleteMalformedRetried(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Reply{Content: "x", Malformed: true}, llmtest.Reply{Content: "fine"})
	c, rec := newClient(t, s.URL, nil)
	resp, err := c.Complete(t.Context(), userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "fine" || len(rec.events) != 1 || !strings.Contains(rec.events[0].Reason, "malformed JSON") {
		t.Errorf("content %q events %+v", resp.Content, rec.events)
	}
}

func TestMissingModel(t *testing.T) {
	s := llmtest.NewServer(t)
	c, _ := newClient(t, s.URL, nil)
	_, err := c.Stream(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "hi"}}}, nil)
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.NoModel || err.Error() != "no model given" || len(s.Requests()) != 0 {
		t.Errorf("error %v after %d requests", err, len(s.Requests()))
	}
}
