// Package chat is the part the LLM agents share: it turns the team's history
// into a chat request from one agent's point of view, streams the answer as
// events and returns it as a team message.
//
// Every prompt is kept within the model's context budget (Fit): the requests,
// the first answer to each (the planner's plan) and the last few steps stay
// in full, older steps are compacted to one line each (what was asked, the
// code's first statement, each cell's status and the first lines of its
// output that hold numbers), and the oldest lines are left out last. The
// planner and the writer also see the kernel state card that the executor
// refreshes after each cell. When a server still answers that the prompt is
// too long, it is asked once more within half the budget (Model.Ask).
package chat
