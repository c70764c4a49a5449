// Package llm is analyst's client for OpenAI-compatible Chat Completions
// servers: OpenAI, Azure OpenAI's v1 API, vLLM, Ollama, the llama.cpp server
// and DashScope among them. It is the only package that imports go-openai.
//
// Client.Stream sends a chat request with streaming on, hands each piece of
// content to a callback as it arrives, assembles tool calls from their
// deltas and returns the whole answer with its token usage (estimated when
// the server reports none). Client.Complete does the same without streaming.
//
// Both retry what is worth retrying: rate limits (honouring Retry-After),
// server errors, connection failures, streams cut or stalled mid-answer,
// malformed chunks and timeouts, with exponential backoff and jitter, up to
// Config.MaxRetries times. Failures that a retry cannot fix (a rejected API
// key, an unknown model, a bad request) come back at once. Every failure is
// an *Error whose Kind lets callers decide what to do and whose message is
// one line meant for people: it names what to check and never holds the API
// key or a raw response body.
package llm
