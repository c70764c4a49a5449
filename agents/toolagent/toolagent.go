package toolagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/analyst-dev/analyst/agents/chat"
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

// Runner runs code as a cell of the run, reporting it as CellStarted and
// CellFinished events under the agent's name, and returns the cell with its
// rendering for the LLM. *executor.Executor is a Runner.
type Runner interface {
	RunCode(ctx context.Context, agent, code string, emit func(team.Event)) (team.Cell, string, error)
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

// Transcript returns a copy of the chat messages the agent has sent and
// received so far.
func (a *Agent) Transcript() []llm.Message {
	out := make([]llm.Message, len(a.msgs))
	for i, m := range a.msgs {
		m.ToolCalls = append([]llm.ToolCall(nil), m.ToolCalls...)
		out[i] = m
	}
	return out
}

// Act takes one turn: it asks the model for its next answer with the
// execute_code tool on offer, then runs the answer's tool calls in order. An
// answer without tool calls is final: its content is the run's summary.
// Otherwise the message holds the model's text and the cells that ran, and
// hands the next turn back to the agent; the tool results the model sees
// next turn are in the agent's transcript. The usage is that of the one LLM
// answer.
func (a *Agent) Act(ctx context.Context, history []team.Message, emit func(team.Event)) (team.Message, error) {
	if len(a.msgs) == 0 {
		a.msgs = []llm.Message{{Role: "system", Content: a.system}, {Role: "user", Content: task(history)}}
	}
	req := llm.Request{
		Model:       a.model.Name,
		Messages:    a.msgs,
		Temperature: a.model.Temperature,
		TopP:        a.model.TopP,
		Tools:       []llm.Tool{Tool},
		OnRetry: func(r llm.RetryEvent) {
			emit(team.Retry{Agent: Name, Attempt: r.Attempt, Wait: r.Wait, Reason: r.Reason})
		},
		OnRestart: func() { emit(team.TextRestart{Agent: Name}) },
	}
	resp, err := a.client.Stream(ctx, req, func(s string) {
		emit(team.TextDelta{Agent: Name, Text: s})
	})
	if err != nil {
		var le *llm.Error
		if errors.As(err, &le) && le.Kind == llm.ToolsUnsupported {
			return team.Message{}, fmt.Errorf("%w; use --mode team, whose agents need no tool calling", err)
		}
		return team.Message{}, err
	}
	msg := team.Message{
		Agent:   Name,
		Content: strings.TrimSpace(resp.Content),
		Usage: team.Usage{
			PromptTokens:     resp.Usage.PromptTokens,
			CompletionTokens: resp.Usage.CompletionTokens,
			Estimated:        resp.Usage.Estimated,
		},
	}
	a.msgs = append(a.msgs, llm.Message{Role: "assistant", Content: resp.Content, ToolCalls: resp.ToolCalls})
	if len(resp.ToolCalls) == 0 {
		msg.Final = true
		return msg, nil
	}
	for _, call := range resp.ToolCalls {
		reply, cell, err := a.call(ctx, call, emit)
		if cell != nil {
			msg.Cells = append(msg.Cells, *cell)
		}
		if err != nil {
			return msg, err
		}
		a.msgs = append(a.msgs, llm.Message{Role: "tool", ToolCallID: call.ID, Content: reply})
		if err := ctx.Err(); err != nil {
			return msg, err
		}
	}
	msg.Next = Name
	return msg, nil
}

// call answers one tool call: it runs the code of a well-formed execute_code
// call and returns the text for the tool message, and the cell if one ran.
// A malformed call is answered with an explanation, for the model to fix,
// and reported to the user as a warning.
func (a *Agent) call(ctx context.Context, call llm.ToolCall, emit func(team.Event)) (string, *team.Cell, error) {
	if call.Name != ToolName {
		emit(team.Notice{Text: fmt.Sprintf("the model called an unknown tool %q; it was told to use %s", call.Name, ToolName), Warning: true})
		return fmt.Sprintf("Error: there is no tool named %q. The only tool is %s, called with {\"code\": \"...\"}.", call.Name, ToolName), nil, nil
	}
	code, problem := parseArguments(call.Arguments)
	if problem != "" {
		emit(team.Notice{Text: fmt.Sprintf("the model's %s call was malformed (%s); it was asked to call again", ToolName, problem), Warning: true})
		return fmt.Sprintf("Error: %s; nothing was run. Call %s with a JSON object holding the Python code as a string, such as {\"code\": \"print(df.head())\"}.", problem, ToolName), nil, nil
	}
	cell, text, err := a.runner.RunCode(ctx, Name, code, emit)
	if err != nil {
		return "", &cell, fmt.Errorf("%s: %w", ToolName, err)
	}
	return text, &cell, nil
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
	code = unfence(code)
	if strings.TrimSpace(code) == "" {
		return "", `the "code" field is empty`
	}
	return code, ""
}

// unfence removes a Markdown fence around the whole code, which models
// sometimes add despite the tool's description.
func unfence(code string) string {
	t := strings.TrimSpace(code)
	if !strings.HasPrefix(t, "```") || !strings.HasSuffix(t, "```") || len(t) < 6 {
		return code
	}
	body := strings.TrimSuffix(t, "```")
	first, rest, ok := strings.Cut(body, "\n")
	if !ok || strings.Contains(first[3:], "`") {
		return code
	}
	return rest
}

// task is the user's request: the first message of the history.
func task(history []team.Message) string {
	for _, m := range history {
		if m.Agent == team.UserAgent {
			return m.Content
		}
	}
	return ""
}
