// Package toolagent is analyst's single-agent mode: one LLM agent that
// answers the user's request by calling an execute_code function tool, whose
// calls run as cells in the stateful Jupyter kernel through the executor.
//
// Each turn is one LLM answer and the cells its tool calls ran: the agent
// asks the model, runs every execute_code call of the answer in order and
// keeps the results, as tool messages, for the next turn's request. The run
// ends when the model answers without a tool call; that answer is the
// summary. The agent keeps its own chat transcript (assistant messages with
// their tool calls, tool results), since the team's history holds only what
// people see of it.
package toolagent
