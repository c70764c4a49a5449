// Package redact replaces known secrets (the LLM's API key, the gateway's
// token) with a marker such as "[redacted OPENAI_API_KEY]" in text that came
// from somewhere analyst does not trust: a kernel's output, an LLM's answer.
// It is a second line of defence; the first is that secrets are never handed
// to a kernel.
//
// Only verbatim occurrences are found. Values shorter than [MinLen] are not
// looked for at all: a short token would match ordinary text and turn
// output into nonsense.
package redact
