// Package analysis is one analysis session: a gateway and a kernel, the
// conversation of the agents working in it, the records it leaves behind,
// and what it cost. It is built once from Options; Ask gives it a request
// and returns the Outcome, and may be called again with a follow-up on the
// same kernel; Exec runs one cell in it without an LLM. The commands run,
// batch, mcp and replay are thin front ends on a Session.
package analysis
