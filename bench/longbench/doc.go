// Command longbench measures long analyses: one "analyst run" whose
// scripted planner asks for N extra steps after a first one, each cell
// printing about 1 MB, on a local Jupyter Server and the project's scripted
// OpenAI-compatible server, for N = 10, 20 and 40. It prints a table:
//
//   - wall: the run's wall time;
//   - CPU and share: analyst's user+sys CPU seconds (the child's rusage),
//     the two apart (sys is mostly writing the records: each output goes
//     into events.jsonl, the notebook and the notebook's twin), and their
//     share of the wall time;
//   - peak RSS: the child's rusage maxrss;
//   - records, 1st and k-th MB cell: the record-keeping cost of the first
//     cell that prints 1 MB and of the 40th (k = 40, or the last when N is
//     smaller), read from events.jsonl as the time from its cell_finished
//     event to the executor's message event that follows (recording the cell, drawing it,
//     rendering it for the LLM and, since the context budget, the kernel
//     state request, a few milliseconds);
//   - max prompt and total prompt: estimated tokens (4 bytes each, as the
//     scripted server counts usage) of the largest request and of all of
//     them, counted at the scripted server;
//   - recall: whether the number printed by the first step's cell was in the
//     planner's last prompt (the one that writes the summary).
//
// The analyst binary is built from the working tree unless -bin names one
// (to measure another commit, build it there and pass it). -rows sets what
// the later cells print (-rows 1: the cost of the cells, LLM requests and
// records themselves); -first-token and -tokens-per-second pace the
// scripted LLM as a real model streams (by default it answers at once, so
// the wall time is the kernel's and analyst's alone).
//
//	go run ./bench/longbench [-n 10,20,40] [-bin PATH] [-rows 52000]
//		[-first-token 0.5s] [-tokens-per-second 60] [-- extra analyst run flags]
package main
