// Package team runs a conversation between agents in round-robin order.
//
// A run starts from the user's task and gives each agent a turn in order
// (planner, writer, executor, planner, ...). An agent may hand the next turn to
// a named agent instead (the executor does when it found no code to run). The
// run ends when an agent's message is marked final (the planner's
// TERMINATION), or at a limit: turns, wall-clock time or tokens. Everything
// that happens is reported as an Event to an Observer, so the console, the run
// records and the JSON event stream all render the same stream.
//
// The package knows agents only through the Agent interface and output only
// through Observer.
package team
