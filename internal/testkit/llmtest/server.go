package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// DefaultChunkSize is how many characters of content, or of tool-call
// arguments, each streamed delta carries unless SetChunkSize says otherwise.
const DefaultChunkSize = 3

// ToolCall is a tool call in a reply or in a recorded assistant message.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// Usage is the token usage a reply reports.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Reply is one scripted answer.
type Reply struct {
	// Content is the assistant's text.
	Content string
	// ToolCalls are the tool calls the assistant makes, after the content.
	ToolCalls []ToolCall

	// Status, when neither 0 nor 200, makes the reply an error: the status
	// with an OpenAI error body holding ErrorMessage and ErrorCode.
	Status       int
	ErrorMessage string
	ErrorCode    string
	// RawBody, when set with Status, is sent as a plain-text error body
	// instead of OpenAI's JSON shape, the way some local servers answer.
	RawBody string
	// RetryAfter is the value of the Retry-After header, if any.
	RetryAfter string

	// DropAfter, when positive, cuts the connection after this many bytes
	// of content: the stream ends mid-answer without a finish reason.
	DropAfter int
	// StallAfter, when positive, stops sending after this many bytes of
	// content and holds the connection open until the client goes away.
	StallAfter int
	// Silent sends nothing at all, not even the response's headers, and
	// holds the connection open until the client goes away: a server that
	// never answers.
	Silent bool
	// Malformed sends a chunk of broken JSON after the first content delta
	// (or a broken body when not streaming) and ends the response.
	Malformed bool
	// NoUsage leaves out the usage even when the request asks for it.
	NoUsage bool
	// Usage is the usage to report; by default it is computed from the
	// lengths of the prompt and the answer (a token per 4 bytes).
	Usage *Usage
}

// Message is a chat message as the server received it.
type Message struct {
	Role       string
	Content    string
	Name       string
	ToolCallID string
	ToolCalls  []ToolCall
}

// Request is a chat completion request as the server received it.
type Request struct {
	Model    string
	Messages []Message
	Stream   bool
	// IncludeUsage reports stream_options.include_usage.
	IncludeUsage bool
	// Tools are the names of the tools offered.
	Tools       []string
	Temperature *float32
	TopP        *float32
	// MaxTokens is max_tokens, or max_completion_tokens when that is set.
	MaxTokens int
	Header    http.Header
}

// Server is a scripted OpenAI-compatible server. Create it with NewServer.
type Server struct {
	// URL is the base URL clients use, ending in /v1.
	URL string

	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	queue     []Reply
	respond   func(Request) Reply
	requests  []Request
	key       string
	models    []string
	chunkSize int
	pace      Pace
	ids       int
}

// Pace is how fast the server streams an answer, as a model does: the time
// before its first delta, and between one delta and the next (a delta of
// the default chunk size is about one token). The zero Pace answers at
// once; answers that are not streamed are never paced. A paced answer stops
// when its request is canceled.
type Pace struct {
	FirstDelta time.Duration
	PerDelta   time.Duration
}

// NewServer starts a server that plays replies in order; it is closed when
// the test ends. A request past the end of the script fails the test and is
// answered with a 500.
func NewServer(t testing.TB, replies ...Reply) *Server {
	t.Helper()
	s := &Server{t: t, queue: replies, chunkSize: DefaultChunkSize}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("GET /v1/models", s.listModels)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "invalid_request_error", "")
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.srv.Close)
	return s
}

// Respond makes f decide every reply from now on; it takes precedence over
// the queue. f may be called from several goroutines at once.
func (s *Server) Respond(f func(req Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = f
}

// Requests returns every chat completion request received so far, in the
// order they arrived, including those answered with an error.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequireKey makes the server answer 401, with OpenAI's invalid_api_key
// body, to requests without the header "Authorization: Bearer key".
func (s *Server) RequireKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

// Models sets the models the server knows: a chat request for another model
// is answered 404 with OpenAI's model_not_found body, and GET /models lists
// them. Without a call to Models every model is accepted.
func (s *Server) Models(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models = slices.Clone(names)
}

// SetChunkSize sets how many characters each streamed delta carries.
func (s *Server) SetChunkSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chunkSize = max(n, 1)
}

// SetPace makes the server answer at pace p (see Pace).
func (s *Server) SetPace(p Pace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pace = p
}

// authorized reports whether r carries the required key, answering 401 if
// not.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	key := s.key
	s.mu.Unlock()
	if key == "" || r.Header.Get("Authorization") == "Bearer "+key {
		return true
	}
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	// The message quotes the key it got, as OpenAI's does (unmasked here, so
	// that tests catch a client that repeats it).
	writeError(w, http.StatusUnauthorized,
		fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", got),
		"invalid_request_error", "invalid_api_key")
	return false
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	names := slices.Clone(s.models)
	s.mu.Unlock()
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	for _, n := range names {
		list.Data = append(list.Data, model{ID: n, Object: "model", OwnedBy: "llmtest"})
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var body wireRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error", "")
		return
	}
	req := body.decode(r.Header)

	s.mu.Lock()
	s.requests = append(s.requests, req)
	n := len(s.requests)
	s.ids++
	id := fmt.Sprintf("chatcmpl-llmtest-%d", s.ids)
	chunk, pace := s.chunkSize, s.pace
	known := s.models == nil || slices.Contains(s.models, req.Model)
	s.mu.Unlock()

	if !s.authorized(w, r) {
		return
	}
	if !known {
		writeError(w, http.StatusNotFound,
			fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model),
			"invalid_request_error", "model_not_found")
		return
	}
	reply, ok := s.next(req)
	if !ok {
		s.t.Errorf("llmtest: request %d (model %q) is past the end of the script", n, req.Model)
		writeError(w, http.StatusInternalServerError, "llmtest: the script has no reply for this request", "server_error", "")
		return
	}
	if reply.Silent {
		<-r.Context().Done()
		return
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
		if reply.RawBody != "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(reply.Status)
			fmt.Fprint(w, reply.RawBody)
			return
		}
		writeError(w, reply.Status, reply.ErrorMessage, errorType(reply.Status), reply.ErrorCode)
		return
	}
	a := answer{id: id, model: req.Model, reply: reply, usage: usageFor(req, reply), pace: pace}
	if req.Stream {
		a.stream(w, r, chunk, req.IncludeUsage)
		return
	}
	a.complete(w, r)
}

// next takes the reply for req: from the Respond function if set, else from
// the queue.
func (s *Server) next(req Request) (Reply, bool) {
	s.mu.Lock()
	f := s.respond
	if f == nil {
		defer s.mu.Unlock()
		if len(s.queue) == 0 {
			return Reply{}, false
		}
		r := s.queue[0]
		s.queue = s.queue[1:]
		return r, true
	}
	s.mu.Unlock()
	return f(req), true
}

// usageFor is the usage a reply reports: its own, or one computed from the
// lengths of the prompt and the answer.
func usageFor(req Request, r Reply) Usage {
	if r.Usage != nil {
		return *r.Usage
	}
	var prompt, completion int
	for _, m := range req.Messages {
		prompt += len(m.Content)
	}
	completion = len(r.Content)
	for _, tc := range r.ToolCalls {
		completion += len(tc.Name) + len(tc.Arguments)
	}
	return Usage{PromptTokens: (prompt + 3) / 4, CompletionTokens: (completion + 3) / 4}
}

// errorType is the OpenAI error type for a status.
func errorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with OpenAI's error shape.
func writeError(w http.ResponseWriter, status int, message, typ, code string) {
	var c any
	if code != "" {
		c = code
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": message, "type": typ, "param": nil, "code": c,
	}})
}

// pieces splits s into pieces of n characters.
func pieces(s string, n int) []string {
	var out []string
	for s != "" {
		i, k := 0, 0
		for i < len(s) && k < n {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			k++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}
