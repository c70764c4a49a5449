// Package cell is one executed code cell as a value: its code, a typed
// Status, the kernel's result, the figures its images were saved as, and
// every rendering of it that the rest of analyst needs: the capped text the
// LLM reads (ForLLM), the lines the console shows (Lines), the outputs the
// notebook and events.jsonl hold (Outputs), and the plain text that exec,
// replay and batch expectations use (Text, Fingerprint).
//
// Everything else consumes these renderings instead of walking a
// jupyter.Result itself. The package imports no package of analyst's but
// jupyter.
package cell
