// Package termsafe makes untrusted text safe to show on a terminal.
//
// Text from an LLM, from a kernel's output or from a gateway's answers may
// hold escape sequences and control characters that a terminal acts on:
// OSC 52 writes the clipboard, OSC 0 sets the window title, ESC c resets the
// terminal, CSI sequences move the cursor and clear the screen, 8-bit C1
// controls (U+009B is a CSI by itself) do the same on terminals that honour
// them. String keeps printable text, newlines and tabs and renders every
// other control character visibly, as a Go escape (`\x1b`, `\x07`,
// `\u009b`), so the user sees what was sent and the terminal does nothing.
//
// Apply it to the untrusted text before styling it: the console's own colour
// codes are added afterwards and survive.
package termsafe
