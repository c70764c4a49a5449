// Package fence reads and writes Markdown fenced code blocks: the blocks of
// an LLM's message that the executor runs (Extract), a fence around code
// that a tool call should not have had (Unwrap), and a fence that safely
// wraps code in a Markdown file (For).
package fence
