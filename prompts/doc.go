// Package prompts holds the agents' system prompts as embedded Markdown
// templates and renders them with typed data.
//
// The embedded files are the defaults; Load with a directory reads any file of
// the same name from there instead, so users can tune prompts without
// rebuilding.
package prompts
