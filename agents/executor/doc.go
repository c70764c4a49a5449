// Package executor is the agent that runs the code blocks of the latest
// message in the kernel, one cell each, and answers with what they printed,
// shortened for the LLM (cell.Cell.ForLLM). It saves the cells' figures,
// restarts a kernel that died and, when asked, re-runs the cells that had
// succeeded to bring the kernel's variables back. After each message's cells
// it asks the kernel, with a silent request, for a short card of the user's
// variables (names, types, shapes), which the planner and the writer see.
package executor
