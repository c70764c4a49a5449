package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// DefaultBaseURL is the base URL used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.openai.com/v1"

// Defaults for the zero values of Config.
const (
	defaultMaxRetries     = 5
	defaultMinBackoff     = time.Second
	defaultMaxBackoff     = 30 * time.Second
	defaultRequestTimeout = 5 * time.Minute
	defaultStallTimeout   = 2 * time.Minute
	// DefaultMaxMessageBytes is the default of Config.MaxMessageBytes:
	// far above what a model writes in one answer (gpt-4o-mini stops at
	// 16k tokens, about 64 KB), far below what would swamp the next
	// prompts.
	DefaultMaxMessageBytes = 256 << 10
	// maxRetryAfter caps the wait a server can ask for with Retry-After; a
	// longer request is honoured only up to this.
	maxRetryAfter = 2 * time.Minute
)

// Config configures a Client. The zero value of every field means its
// default.
type Config struct {
	// BaseURL is the server's base URL, usually ending in /v1, as in
	// OPENAI_BASE_URL. The default is DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token, as in OPENAI_API_KEY. It may be
	// empty for local servers such as Ollama.
	APIKey string
	// HTTPClient sends the requests; the default is a plain http.Client.
	// Its Timeout, if any, applies to whole streams: prefer RequestTimeout.
	HTTPClient *http.Client

	// MaxRetries is how many times a failed request is retried (default 5);
	// a negative value turns retries off.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the wait before a retry (default 1s
	// and 30s): the n-th retry waits a random time between MinBackoff and
	// min(MaxBackoff, MinBackoff·2ⁿ⁻¹). A server's Retry-After overrides
	// them, up to 2 minutes.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout limits each attempt (default 5 minutes). An attempt
	// that times out is retried.
	RequestTimeout time.Duration
	// StallTimeout is how long a streamed attempt may wait for the server:
	// for the first byte of its answer once the request is sent, then
	// between any two bytes (default 2 minutes). An attempt that waits
	// longer counts as timed out and is retried.
	StallTimeout time.Duration
	// MaxMessageBytes caps an answer: its content and its tool calls'
	// arguments together (default DefaultMaxMessageBytes). A stream that
	// goes past it is closed; the content is cut there and ends with a
	// note saying so, and Response.Truncated is set.
	MaxMessageBytes int

	// Redactor, if set, scrubs secrets from every answer before the caller
	// sees it: the streamed deltas (holding back what may begin a secret),
	// the content and the tool calls' arguments.
	Redactor Redactor

	// OnRetry, if set, is called before each wait for a retry.
	OnRetry func(RetryEvent)
	// Sleep waits for d or until ctx is done, returning ctx's error then.
	// The default waits on a timer; tests inject one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
}

// RetryEvent describes a failed attempt that is about to be retried.
type RetryEvent struct {
	// Attempt is the number of the attempt that failed, from 1.
	Attempt int
	// Wait is how long the client waits before the next attempt.
	Wait time.Duration
	// Reason says in one line why the attempt failed, such as
	// "429 rate limited" or "stream closed mid-answer".
	Reason string
}

// Message is a chat message.
type Message struct {
	// Role is "system", "user", "assistant" or "tool".
	Role    string
	Content string
	// Name optionally names the author of the message.
	Name string
	// ToolCalls are the tool calls of an assistant message.
	ToolCalls []ToolCall
	// ToolCallID is, in a tool message, the ID of the call it answers.
	ToolCallID string
}

// ToolCall is a call of a tool (a function) by the model.
type ToolCall struct {
	ID   string
	Name string
	// Arguments is the JSON object of the call's arguments, as the model
	// wrote it.
	Arguments string
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON schema of the function's arguments; nil means
	// it takes none.
	Parameters json.RawMessage
}

// Request is a chat completion request.
type Request struct {
	Model    string
	Messages []Message
	// Temperature and TopP are sent when set.
	Temperature, TopP *float32
	Tools             []Tool
	// MaxTokens limits the length of the answer when positive.
	MaxTokens int

	// OnRetry, if set, is called before each wait for a retry of this
	// request, after Config.OnRetry.
	OnRetry func(RetryEvent)
	// OnRestart, if set, is called when a retried stream is about to
	// deliver content after an earlier attempt already delivered some: the
	// text shown so far is void and starts again.
	OnRestart func()
}

// Usage counts the tokens of a request and its answer.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	// Estimated reports that the server sent no usage and the counts are
	// estimates (see EstimateTokens).
	Estimated bool
}

// Response is a model's whole answer.
type Response struct {
	Content   string
	ToolCalls []ToolCall
	Usage     Usage
	// FinishReason is why the model stopped: "stop", "length",
	// "tool_calls", "content_filter", or what the server said.
	FinishReason string
	// Retries is how many failed attempts came before the answer.
	Retries int
	// Truncated reports that the answer was longer than
	// Config.MaxMessageBytes and was cut: Content ends with a note saying
	// so.
	Truncated bool
}

// Client talks to one OpenAI-compatible server. It is safe for concurrent
// use.
type Client struct {
	cfg  Config
	api  *openai.Client
	base string // the base URL as shown to people: no credentials
	now  func() time.Time
}

// New returns a client for the server cfg names. It fails only when the
// base URL is not an http(s) URL.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid OPENAI_BASE_URL %q: want an http(s) URL such as %s", displayURL(cfg.BaseURL), DefaultBaseURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = defaultMaxRetries
	}
	cfg.MaxRetries = max(cfg.MaxRetries, 0)
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = defaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = defaultMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = defaultStallTimeout
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}

	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	d := &doer{client: cfg.HTTPClient}
	if isAzure(u.Hostname()) {
		// Azure OpenAI's v1 API takes the key in its own header.
		d.azureKey = cfg.APIKey
	}
	oc.HTTPClient = d
	return &Client{
		cfg:  cfg,
		api:  openai.NewClientWithConfig(oc),
		base: displayURL(cfg.BaseURL),
		now:  time.Now,
	}, nil
}

// BaseURL returns the server's base URL as it may be shown to people,
// without credentials or query.
func (c *Client) BaseURL() string { return c.base }

// displayURL returns raw without user info, query or fragment.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return strings.TrimRight(u.String(), "/")
}

// isAzure reports whether host is an Azure OpenAI endpoint.
func isAzure(host string) bool {
	return strings.HasSuffix(host, ".openai.azure.com") || strings.HasSuffix(host, ".cognitiveservices.azure.com")
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
