// Package llmtest is an OpenAI-compatible Chat Completions server for tests.
//
// A Server listens on a real loopback port through httptest and plays a
// script: each POST {URL}/chat/completions takes the next Reply from the
// queue, or asks the function given to Respond. It answers in OpenAI's
// shapes: a JSON completion, or, when the request asks for a stream, server-
// sent events carrying the content and tool calls in small deltas, a final
// chunk with the finish reason, a usage chunk when stream_options asks for
// one, and "data: [DONE]". Replies can also fail the way real servers do:
// error statuses with OpenAI's error body or a plain-text one, 429 with
// Retry-After, a connection cut mid-answer, a stalled stream and a chunk of
// broken JSON.
//
// Every request is recorded, decoded, and can be read back with Requests.
// A Server is safe for concurrent requests.
package llmtest
