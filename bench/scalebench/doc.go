// Command scalebench runs N analyst sessions at once against one local
// Jupyter Server and one scripted OpenAI-compatible server, for N = 1, 4, 16
// and 32, and prints a table: how many succeeded, the wall time, sessions
// per minute, analyst's peak RSS, analyst's share of the CPU (its processes
// against the gateway and its kernels) and the kernel start latency.
//
// Each session is the analyst binary (built once) as a subprocess:
// "analyst run" whose planner asks for one step, whose writer answers with
// a small pandas cell, and whose planner then ends with TERMINATION.
//
//	go run ./bench/scalebench [-n 1,4,16,32] [-launch-timeout 120s]
package main
