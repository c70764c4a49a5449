package llm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ErrorKind classifies a failed request so that callers can decide what to
// do about it.
type ErrorKind int

// The kinds of Error.
const (
	// Server is a 5xx answer (or another unexpected status).
	Server ErrorKind = iota
	// Auth is a 401 or 403: the API key was rejected or lacks access.
	Auth
	// ModelNotFound is a 404 naming the model.
	ModelNotFound
	// NotFound is another 404: usually a base URL without /v1.
	NotFound
	// BadRequest is a 400 (or another 4xx) that retrying cannot fix.
	BadRequest
	// ToolsUnsupported is a refusal of a request with tools because the
	// model or server does not do tool calling.
	ToolsUnsupported
	// RateLimited is a 429.
	RateLimited
	// Quota is a 429 saying the account has no credit left.
	Quota
	// Network is a failure to reach the server.
	Network
	// Timeout is an attempt that took longer than Config.RequestTimeout, or
	// a stream silent for Config.StallTimeout.
	Timeout
	// Stream is an answer that broke off or could not be decoded.
	Stream
	// NoModel is a request that names no model.
	NoModel
	// ContextLength is a request whose prompt is longer than the model's
	// context window, as the server counted it.
	ContextLength
)

var kindNames = [...]string{
	Server: "server", Auth: "auth", ModelNotFound: "model not found", NotFound: "not found",
	BadRequest: "bad request", ToolsUnsupported: "tools unsupported", RateLimited: "rate limited",
	Quota: "quota", Network: "network", Timeout: "timeout", Stream: "stream",
	NoModel: "no model", ContextLength: "context length",
}

// String returns the kind's name, such as "rate limited".
func (k ErrorKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is a failed request. Its message is one line meant for people.
type Error struct {
	Kind ErrorKind
	// Status is the HTTP status, or 0 when there was none.
	Status int
	// Model is the model the request was for.
	Model string
	// Message is the server's explanation or the cause, on one line,
	// without the API key.
	Message string
	// BaseURL is the server's base URL, without credentials.
	BaseURL string
	// Attempts is, when the client gave up retrying, how many attempts it
	// made; otherwise 0.
	Attempts int

	err error // the underlying error, for errors.Is and errors.As
}

// Error returns a one-line message saying what failed. What the user can
// do about it depends on how they run the client: the caller adds that,
// keyed on Kind.
func (e *Error) Error() string {
	s := e.describe()
	if e.Attempts > 0 {
		s = fmt.Sprintf("%s (gave up after %d attempts)", s, e.Attempts)
	}
	return s
}

func (e *Error) describe() string {
	withMsg := func(s string) string {
		if e.Message == "" {
			return s
		}
		return s + ": " + e.Message
	}
	switch e.Kind {
	case Auth:
		if e.Status == 403 {
			return withMsg(fmt.Sprintf("the LLM server refused access to model %q (403)", e.Model))
		}
		return "the LLM server rejected the API key (401)"
	case ModelNotFound:
		return fmt.Sprintf("model %q not found at %s (404)", e.Model, e.BaseURL)
	case NotFound:
		return fmt.Sprintf("no chat completions endpoint at %s (404)", e.BaseURL)
	case NoModel:
		return "no model given"
	case ContextLength:
		return withMsg(fmt.Sprintf("the prompt is longer than model %q's context window (%s)", e.Model, e.status()))
	case BadRequest:
		return withMsg(fmt.Sprintf("the LLM server rejected the request for model %q (%s)", e.Model, e.status()))
	case ToolsUnsupported:
		return withMsg(fmt.Sprintf("model %q at %s does not support tool calling (%s)", e.Model, e.BaseURL, e.status()))
	case RateLimited:
		return withMsg("the LLM server is rate limiting requests (429)")
	case Quota:
		return withMsg("the LLM account has run out of quota (429)")
	case Network:
		return withMsg(fmt.Sprintf("cannot reach the LLM server at %s", e.BaseURL))
	case Timeout:
		return withMsg(fmt.Sprintf("the LLM server at %s did not answer in time", e.BaseURL))
	case Stream:
		return withMsg(fmt.Sprintf("the answer from %s broke off", e.BaseURL))
	default:
		return withMsg(fmt.Sprintf("the LLM server at %s failed (%s)", e.BaseURL, e.status()))
	}
}

func (e *Error) status() string {
	if e.Status == 0 {
		return "no status"
	}
	return fmt.Sprint(e.Status)
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.err }

// maxMessage is the longest server message kept, in characters.
const maxMessage = 200

// oneLine folds s onto one line, collapsing runs of space, and truncates it
// to maxMessage characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxMessage {
		r := []rune(s)
		s = string(r[:maxMessage-1]) + "…"
	}
	return s
}

// bodyMessage extracts the explanation from an error body: OpenAI's
// {"error":{"message":...}}, the variants of vLLM, Ollama, llama.cpp and
// FastAPI servers, or plain text. It also returns the error code, if any.
func bodyMessage(body []byte, status string) (msg, code string) {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
		Code    any             `json:"code"`
	}
	if json.Unmarshal(body, &v) == nil {
		var inner struct {
			Message string `json:"message"`
			Code    any    `json:"code"`
			Type    string `json:"type"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Error, &inner) == nil && inner.Message != "":
			return oneLine(inner.Message), codeString(inner.Code, inner.Type)
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			return oneLine(s), ""
		case v.Message != "":
			return oneLine(v.Message), codeString(v.Code, "")
		case json.Unmarshal(v.Detail, &s) == nil && s != "":
			return oneLine(s), ""
		case len(v.Detail) > 0:
			var d []struct {
				Msg string `json:"msg"`
			}
			if json.Unmarshal(v.Detail, &d) == nil && len(d) > 0 {
				return oneLine(d[0].Msg), ""
			}
		}
	}
	text := strings.TrimSpace(string(body))
	if text == "" || strings.HasPrefix(text, "<") || strings.HasPrefix(text, "{") {
		// Empty, an HTML error page, or JSON of an unknown shape.
		return status, ""
	}
	line, _, _ := strings.Cut(text, "\n")
	return oneLine(line), ""
}

// codeString returns an error code (a string or a number) as a string, or
// typ when there is none.
func codeString(code any, typ string) string {
	switch c := code.(type) {
	case string:
		return c
	case float64:
		return fmt.Sprint(c)
	case int:
		return fmt.Sprint(c)
	}
	return typ
}

// toolsUnsupported matches the messages of servers refusing tools: OpenAI
// ("does not support tools"), Ollama ("does not support tools"), vLLM
// ("auto" tool choice requires --enable-auto-tool-choice), llama.cpp ("tools
// param requires --jinja flag"), and function calling refusals.
var toolsUnsupported = regexp.MustCompile(`(?i)(does ?n[o']t support (tools|tool[ _]?(calls|calling|use)|function[ _]?calling)|tools? (are|is) not supported|(tool|function)[ _]?(calls?|calling|choice) (is )?not (supported|enabled|available)|enable-auto-tool-choice|tool-call-parser|requires --jinja|unsupported (parameter|argument).{0,20}tools)`)

// contextTooLong matches the messages of servers refusing a prompt longer
// than the model's context window: OpenAI ("This model's maximum context
// length is 8192 tokens. However, your messages resulted in ..."), vLLM (the
// same sentence, or "The decoder prompt (length N) is longer than the
// maximum model length of M"), llama.cpp ("request (N tokens) exceeds the
// available context size (M tokens)", type exceed_context_size_error) and
// Ollama ("input length exceeds the context length").
var contextTooLong = regexp.MustCompile(`(?i)(context_length_exceeded|exceed_context_size|maximum context length|context length (is )?exceeded|exceeds? (the )?(available |maximum )?context (size|length|window)|longer than the maximum model length|prompt is too long)`)

// modelMentioned matches 404 messages about a model rather than a path.
var modelMentioned = regexp.MustCompile(`(?i)(model|deployment)`)
