package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
)

// Stream sends req with streaming on, asking for usage in the stream; calls
// onDelta (if not nil) with each piece of content as it arrives; assembles
// the tool calls from their deltas; and returns the whole answer. When the
// server reports no usage, the usage is estimated and marked so.
//
// A failed attempt is retried as Config describes. If an attempt that
// already delivered content fails, req.OnRestart is called before the next
// attempt delivers any, so that the caller can discard what it showed.
func (c *Client) Stream(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	delivered := false // content reached onDelta since the last restart
	first := true      // the next delta is its attempt's first
	resp, err := c.retry(ctx, req, c.cfg.StallTimeout, func(ctx context.Context) (Response, error) {
		first = true
		return c.streamOnce(ctx, req, func(s string) {
			if first && delivered && req.OnRestart != nil {
				req.OnRestart()
			}
			first, delivered = false, true
			if onDelta != nil {
				onDelta(s)
			}
		})
	})
	c.scrub(&resp)
	return resp, err
}

// streamOnce makes one streaming attempt.
func (c *Client) streamOnce(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	creq := chatRequest(req)
	creq.Stream = true
	creq.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	stream, err := c.api.CreateChatCompletionStream(ctx, creq)
	if err != nil {
		return Response{}, err
	}
	defer stream.Close()
	show, flush := c.scrubStream(onDelta)

	var (
		content strings.Builder
		calls   toolCalls
		resp    Response
		usage   *openai.Usage
		size    int // bytes of content and tool-call arguments so far
	)
	for !resp.Truncated {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if resp.FinishReason == "" {
				return Response{}, errClosedEarly
			}
			flush()
			break
		}
		if err != nil {
			return Response{}, err
		}
		if u := chunk.Usage; u != nil && (u.PromptTokens > 0 || u.CompletionTokens > 0) {
			usage = u
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			if d := ch.Delta.Content; d != "" {
				if room := c.cfg.MaxMessageBytes - size; len(d) > room {
					d, resp.Truncated = cutUTF8(d, room), true
				}
				size += len(d)
				content.WriteString(d)
				show(d)
			}
			if resp.Truncated {
				break
			}
			calls.add(ch.Delta.ToolCalls)
			for _, tc := range ch.Delta.ToolCalls {
				size += len(tc.Function.Arguments)
			}
			resp.Truncated = size > c.cfg.MaxMessageBytes
			if ch.FinishReason != "" {
				resp.FinishReason = string(ch.FinishReason)
			}
		}
	}
	resp.Content = content.String()
	resp.ToolCalls = calls.list
	if resp.Truncated {
		// The stream is closed unread: the server stops generating. The
		// cut may fall inside a secret: the tail that may begin one, which
		// show holds back, is dropped, never flushed.
		if r := c.cfg.Redactor; r != nil {
			resp.Content = resp.Content[:len(resp.Content)-r.Partial(resp.Content)]
		}
		c.truncate(&resp, onDelta)
	}
	resp.Usage = usageOf(usage, req, resp)
	return resp, nil
}

// truncate marks resp, an answer longer than Config.MaxMessageBytes whose
// content was cut, as such: its tool calls, whose arguments may be cut too,
// are dropped, and its content ends with a note (also passed to onDelta, if
// not nil) that tells the reader, and the model in the next prompts, what
// happened.
func (c *Client) truncate(resp *Response, onDelta func(string)) {
	note := fmt.Sprintf("\n\n[analyst: this answer was cut at %d bytes, the limit of one message (--max-message); the rest was not read]", c.cfg.MaxMessageBytes)
	resp.Content += note
	resp.ToolCalls = nil
	resp.FinishReason = "length"
	resp.Truncated = true
	if onDelta != nil {
		onDelta(note)
	}
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Complete sends req without streaming and returns the answer, retrying as
// Config describes. When the server reports no usage, the usage is
// estimated and marked so.
func (c *Client) Complete(ctx context.Context, req Request) (Response, error) {
	resp, err := c.retry(ctx, req, 0, func(ctx context.Context) (Response, error) {
		r, err := c.api.CreateChatCompletion(ctx, chatRequest(req))
		if err != nil {
			return Response{}, err
		}
		if len(r.Choices) == 0 {
			return Response{}, errNoChoices
		}
		ch := r.Choices[0]
		resp := Response{Content: ch.Message.Content, FinishReason: string(ch.FinishReason)}
		size := len(resp.Content)
		for _, tc := range ch.Message.ToolCalls {
			resp.ToolCalls = append(resp.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
			size += len(tc.Function.Arguments)
		}
		if size > c.cfg.MaxMessageBytes {
			resp.Content = cutUTF8(resp.Content, c.cfg.MaxMessageBytes)
			c.truncate(&resp, nil)
		}
		resp.Usage = usageOf(&r.Usage, req, resp)
		return resp, nil
	})
	c.scrub(&resp)
	return resp, err
}

// usageOf returns the server's usage u, or an estimate when it has none.
func usageOf(u *openai.Usage, req Request, resp Response) Usage {
	if u == nil || (u.PromptTokens == 0 && u.CompletionTokens == 0) {
		return estimateUsage(req.Messages, resp)
	}
	return Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
}

// toolCalls assembles tool calls from stream deltas.
type toolCalls struct {
	list  []ToolCall
	index map[int]int // delta index → position in list
}

// add merges deltas: a call is known by its index (or, from servers that
// send none, by its ID); its name and ID are set once and its arguments
// arrive in pieces.
func (t *toolCalls) add(deltas []openai.ToolCall) {
	for _, d := range deltas {
		pos := -1
		switch {
		case d.Index != nil:
			if t.index == nil {
				t.index = map[int]int{}
			}
			p, ok := t.index[*d.Index]
			if !ok {
				p = len(t.list)
				t.index[*d.Index] = p
				t.list = append(t.list, ToolCall{})
			}
			pos = p
		case d.ID != "":
			for i, tc := range t.list {
				if tc.ID == d.ID {
					pos = i
				}
			}
		case len(t.list) > 0:
			pos = len(t.list) - 1 // a continuation without index or ID
		}
		if pos < 0 {
			pos = len(t.list)
			t.list = append(t.list, ToolCall{})
		}
		tc := &t.list[pos]
		if tc.ID == "" {
			tc.ID = d.ID
		}
		if n := d.Function.Name; n != "" && n != tc.Name {
			tc.Name += n
		}
		tc.Arguments += d.Function.Arguments
	}
}

// chatRequest converts req to go-openai's shape.
func chatRequest(req Request) openai.ChatCompletionRequest {
	r := openai.ChatCompletionRequest{Model: req.Model}
	for _, m := range req.Messages {
		om := openai.ChatCompletionMessage{Role: m.Role, Content: m.Content, Name: m.Name, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			om.ToolCalls = append(om.ToolCalls, openai.ToolCall{
				ID: tc.ID, Type: openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments},
			})
		}
		r.Messages = append(r.Messages, om)
	}
	if req.Temperature != nil {
		r.Temperature = sendable(*req.Temperature)
	}
	if req.TopP != nil {
		r.TopP = sendable(*req.TopP)
	}
	if req.MaxTokens > 0 {
		if reasoningModel(req.Model) {
			r.MaxCompletionTokens = req.MaxTokens
		} else {
			r.MaxTokens = req.MaxTokens
		}
	}
	for _, t := range req.Tools {
		params := t.Parameters
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		r.Tools = append(r.Tools, openai.Tool{
			Type:     openai.ToolTypeFunction,
			Function: &openai.FunctionDefinition{Name: t.Name, Description: t.Description, Parameters: params},
		})
	}
	return r
}

// sendable returns v, or the smallest positive float32 for 0: go-openai
// omits zero sampling parameters, and servers read 1e-45 as 0.
func sendable(v float32) float32 {
	if v == 0 {
		return math.SmallestNonzeroFloat32
	}
	return v
}

// reasoningModel reports whether OpenAI's reasoning models' rules apply to
// model: they take max_completion_tokens instead of max_tokens.
func reasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}
