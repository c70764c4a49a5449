package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// wireRequest is the JSON body of a chat completion request.
type wireRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		Name       string          `json:"name"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []wireToolCall  `json:"tool_calls"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	Temperature         *float32 `json:"temperature"`
	TopP                *float32 `json:"top_p"`
	MaxTokens           int      `json:"max_tokens"`
	MaxCompletionTokens int      `json:"max_completion_tokens"`
}

type wireToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func (w *wireRequest) decode(h http.Header) Request {
	r := Request{
		Model:       w.Model,
		Stream:      w.Stream,
		Temperature: w.Temperature,
		TopP:        w.TopP,
		MaxTokens:   w.MaxTokens,
		Header:      h.Clone(),
	}
	if w.MaxCompletionTokens != 0 {
		r.MaxTokens = w.MaxCompletionTokens
	}
	if w.StreamOptions != nil {
		r.IncludeUsage = w.StreamOptions.IncludeUsage
	}
	for _, t := range w.Tools {
		r.Tools = append(r.Tools, t.Function.Name)
	}
	for _, m := range w.Messages {
		msg := Message{Role: m.Role, Content: content(m.Content), Name: m.Name, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		r.Messages = append(r.Messages, msg)
	}
	return r
}

// content reads a message's content: a string, or an array of parts whose
// text is joined.
func content(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// answer writes one successful (or deliberately broken) reply.
type answer struct {
	id, model string
	reply     Reply
	usage     Usage
	pace      Pace
}

// wait waits d, or until the request is canceled; it reports whether the
// answer should go on.
func wait(req *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-req.Context().Done():
		return false
	}
}

func (a *answer) finishReason() string {
	if len(a.reply.ToolCalls) > 0 {
		return "tool_calls"
	}
	return "stop"
}

func (a *answer) wireUsage() map[string]int {
	return map[string]int{
		"prompt_tokens":     a.usage.PromptTokens,
		"completion_tokens": a.usage.CompletionTokens,
		"total_tokens":      a.usage.PromptTokens + a.usage.CompletionTokens,
	}
}

// cut returns s up to n bytes (on a rune boundary) when n is positive.
func cut(s string, n int) string {
	if n <= 0 || n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// complete writes a non-streaming completion.
func (a *answer) complete(w http.ResponseWriter, req *http.Request) {
	r := a.reply
	if r.Malformed {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",}}]}`, a.id)
		return
	}
	msg := map[string]any{"role": "assistant", "content": r.Content}
	if len(r.ToolCalls) > 0 {
		var calls []wireToolCall
		for _, tc := range r.ToolCalls {
			c := wireToolCall{ID: tc.ID, Type: "function"}
			c.Function.Name, c.Function.Arguments = tc.Name, tc.Arguments
			calls = append(calls, c)
		}
		msg["tool_calls"] = calls
	}
	body := map[string]any{
		"id": a.id, "object": "chat.completion", "created": 0, "model": a.model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": a.finishReason()}},
	}
	if !r.NoUsage {
		body["usage"] = a.wireUsage()
	}
	if r.DropAfter > 0 || r.StallAfter > 0 {
		// Send part of the body, then cut or hold the connection.
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:len(b)/2])
		_ = http.NewResponseController(w).Flush()
		if r.StallAfter > 0 {
			<-req.Context().Done()
			return
		}
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, http.StatusOK, body)
}

// stream writes the reply as server-sent events, in deltas of chunk
// characters, flushing each.
func (a *answer) stream(w http.ResponseWriter, req *http.Request, chunk int, includeUsage bool) {
	r := a.reply
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush() // the headers go at once, as a model's server sends them

	send := func(choices []any, usage any) {
		c := map[string]any{
			"id": a.id, "object": "chat.completion.chunk", "created": 0, "model": a.model,
			"choices": choices,
		}
		if includeUsage {
			c["usage"] = usage
		}
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\n\n", b)
		_ = rc.Flush()
	}
	deltas := 0
	delta := func(d map[string]any, finish any) bool {
		pause := a.pace.PerDelta
		if deltas == 0 {
			pause = a.pace.FirstDelta
		}
		deltas++
		if !wait(req, pause) {
			return false
		}
		send([]any{map[string]any{"index": 0, "delta": d, "logprobs": nil, "finish_reason": finish}}, nil)
		return true
	}

	if !delta(map[string]any{"role": "assistant", "content": ""}, nil) {
		return
	}
	text := r.Content
	limit := max(r.DropAfter, r.StallAfter)
	text = cut(text, limit)
	for i, p := range pieces(text, chunk) {
		if !delta(map[string]any{"content": p}, nil) {
			return
		}
		if i == 0 && r.Malformed {
			break
		}
	}
	if r.Malformed {
		fmt.Fprintf(w, "data: {\"id\":%q,\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"bro\n\n", a.id)
		_ = rc.Flush()
		return
	}
	if r.StallAfter > 0 {
		<-req.Context().Done()
		return
	}
	if r.DropAfter > 0 {
		panic(http.ErrAbortHandler)
	}
	for i, tc := range r.ToolCalls {
		first := map[string]any{"index": i, "id": tc.ID, "type": "function",
			"function": map[string]any{"name": tc.Name, "arguments": ""}}
		if !delta(map[string]any{"tool_calls": []any{first}}, nil) {
			return
		}
		for _, p := range pieces(tc.Arguments, chunk) {
			if !delta(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": p}}}}, nil) {
				return
			}
		}
	}
	if !delta(map[string]any{}, a.finishReason()) {
		return
	}
	if includeUsage && !r.NoUsage {
		send([]any{}, a.wireUsage())
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	_ = rc.Flush()
}
