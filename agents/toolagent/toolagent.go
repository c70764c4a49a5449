package toolagent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/analyst-dev/analyst/agents/chat"
	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/fence"
	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/team"
)

// Name is the agent's name in the conversation.
const Name = "analyst"

// ToolName is the name of the function tool the model calls to run code.
const ToolName = "execute_code"

// Tool is the execute_code function as the model is offered it.
var Tool = llm.Tool{
	Name: ToolName,
	Description: "Run Python code in a stateful Jupyter kernel and return what it printed or displayed. " +
		"Variables, imports and loaded data stay between calls: build on earlier calls instead of repeating them.",
	Parameters: json.RawMessage(`{"type":"object","properties":{"code":{"type":"string","description":"The Python code to run: only the code itself, no Markdown fences."}},"required":["code"]}`),
}

// Runner runs code as a cell of the run, reporting it as cell.Started and
// cell.Finished events under the agent's name, and returns the cell; Cap is
// how much of a cell's output the LLM sees; State is the kernel state card
// (the user's variables), "" when there is none. *executor.Executor is a
// Runner.
type Runner interface {
	RunCode(ctx context.Context, agent, code string, emit func(team.Event)) (cell.Cell, error)
	Cap() int
	State(ctx context.Context) string
}

// Agent is the single tool-calling agent. It implements team.Agent. It is not
// safe for concurrent use: a run gives it one turn at a time.
type Agent struct {
	client chat.Client
	model  chat.Model
	system string
	runner Runner

	// msgs is the chat transcript so far: system, task, then assistant
	// answers and tool results.
	msgs []llm.Message
	// seen is how much of the history msgs holds: a request that came
	// after (a follow-up), or a conversation restored from a recording, is
	// added at the next turn.
	seen int
	// state is the kernel state card after the latest cell, shown at the
	// end of each prompt.
	state string
}

// New returns the agent: an LLM with the given system prompt whose
// execute_code calls run through runner (an *executor.Executor, so that cells
// get the same output cap, figures, timeout and kernel restarts as in team
// mode).
func New(client chat.Client, model chat.Model, system string, runner Runner) *Agent {
	return &Agent{client: client, model: model, system: system, runner: runner}
}

// Name returns Name.
func (a *Agent) Name() string { return Name }

// Act takes one turn: it asks the model for its next answer with the
// execute_code tool on offer, then runs the answer's tool calls in order. An
// answer without tool calls is final: its content is the run's summary.
// Otherwise the message holds the model's text and the cells that ran, and
// hands the next turn back to the agent; the tool results the model sees
// next turn are in the agent's transcript. The usage is that of the one LLM
// answer.
func (a *Agent) Act(ctx context.Context, history []team.Message, emit func(team.Event)) (team.Message, error) {
	if len(a.msgs) == 0 {
		a.msgs = []llm.Message{{Role: "system", Content: a.system}}
	}
	for _, m := range history[min(a.seen, len(history)):] {
		switch m.Agent {
		case team.UserAgent:
			a.msgs = append(a.msgs, llm.Message{Role: "user", Content: m.Content})
		case Name: // restored: its tool calls are not
			a.msgs = append(a.msgs, llm.Message{Role: "assistant", Content: m.Content})
		}
		if m.State != "" {
			a.state = m.State
		}
	}
	a.seen = len(history)
	resp, err := a.model.Ask(ctx, a.client, Name, a.prompt, []llm.Tool{Tool}, emit)
	if err != nil {
		return team.Message{}, err
	}
	msg := team.Message{
		Agent:   Name,
		Content: strings.TrimSpace(resp.Content),
		Usage:   chat.Usage(resp.Usage),
	}
	a.msgs = append(a.msgs, llm.Message{Role: "assistant", Content: resp.Content, ToolCalls: resp.ToolCalls})
	if len(resp.ToolCalls) == 0 {
		msg.Final, msg.Summary = true, msg.Content
		a.seen++ // the history gets the message
		return msg, nil
	}
	for _, call := range resp.ToolCalls {
		reply, index, err := a.call(ctx, call, emit)
		if index > 0 {
			msg.Cells = append(msg.Cells, index)
		}
		if err != nil {
			return msg, err
		}
		a.msgs = append(a.msgs, llm.Message{Role: "tool", ToolCallID: call.ID, Content: reply})
		if err := ctx.Err(); err != nil {
			return msg, err
		}
	}
	if len(msg.Cells) > 0 {
		a.state = a.runner.State(ctx)
		msg.State = a.state
	}
	msg.Next = Name
	a.seen++ // the history gets the message
	return msg, nil
}

// call answers one tool call: it runs the code of a well-formed execute_code
// call and returns the text for the tool message, and the cell's index if
// one ran.
// A malformed call is answered with an explanation, for the model to fix,
// and reported to the user as a warning.
func (a *Agent) call(ctx context.Context, call llm.ToolCall, emit func(team.Event)) (string, int, error) {
	if call.Name != ToolName {
		emit(team.Notice{Text: fmt.Sprintf("the model called an unknown tool %q; it was told to use %s", call.Name, ToolName), Warning: true})
		return fmt.Sprintf("Error: there is no tool named %q. The only tool is %s, called with {\"code\": \"...\"}.", call.Name, ToolName), 0, nil
	}
	code, problem := parseArguments(call.Arguments)
	if problem != "" {
		emit(team.Notice{Text: fmt.Sprintf("the model's %s call was malformed (%s); it was asked to call again", ToolName, problem), Warning: true})
		return fmt.Sprintf("Error: %s; nothing was run. Call %s with a JSON object holding the Python code as a string, such as {\"code\": \"print(df.head())\"}.", problem, ToolName), 0, nil
	}
	c, err := a.runner.RunCode(ctx, Name, code, emit)
	if err != nil {
		return "", c.Index, fmt.Errorf("%s: %w", ToolName, err)
	}
	return c.ForLLM(a.runner.Cap()), c.Index, nil
}

// parseArguments returns the code of an execute_code call, or what is wrong
// with its arguments.
func parseArguments(args string) (code, problem string) {
	if strings.TrimSpace(args) == "" {
		return "", "the arguments are empty"
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(args), &v); err != nil {
		return "", fmt.Sprintf("the arguments are not a JSON object (%v)", err)
	}
	raw, ok := v["code"]
	if !ok {
		return "", `the arguments have no "code" field`
	}
	if err := json.Unmarshal(raw, &code); err != nil {
		return "", `the "code" field is not a string`
	}
	code = fence.Unwrap(code)
	if strings.TrimSpace(code) == "" {
		return "", `the "code" field is empty`
	}
	return code, ""
}

// prompt is the transcript within budget tokens: the system prompt, then
// steps: each request (pinned), each answer with tool calls together with
// the tool results that follow it, and each answer without (a final answer,
// or one restored from an earlier run's records).
func (a *Agent) prompt(budget int) []llm.Message {
	var steps []chat.Step
	for _, m := range a.msgs[1:] {
		switch {
		case m.Role == "tool" && len(steps) > 0:
			s := &steps[len(steps)-1]
			s.Msgs = append(s.Msgs, m)
			s.Results = append(s.Results, m.Content)
		case m.Role == "assistant" && len(m.ToolCalls) > 0:
			s := chat.Step{Msgs: []llm.Message{m}, Asked: m.Content}
			for _, call := range m.ToolCalls {
				if code, problem := parseArguments(call.Arguments); problem == "" {
					s.Code = append(s.Code, code)
				}
			}
			steps = append(steps, s)
		case m.Role == "assistant":
			steps = append(steps, chat.Step{Msgs: []llm.Message{m}, Asked: m.Content})
		default: // a request
			steps = append(steps, chat.Step{Msgs: []llm.Message{m}, Pinned: true, Asked: m.Content})
		}
	}
	return chat.Fit(a.msgs[:1], steps, chat.StateTail(a.state), budget)
}
