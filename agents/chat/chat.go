package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/team"
)

// Client is the LLM client the agents need.
type Client interface {
	Stream(ctx context.Context, req llm.Request, onDelta func(string)) (llm.Response, error)
}

// Model says which model answers, how it samples and how long its prompts
// may be.
type Model struct {
	Name        string
	Temperature *float32
	TopP        *float32
	// ContextBudget is the most tokens, estimated, that a prompt may take;
	// DefaultBudget when zero. Older steps of a long conversation are
	// compacted to fit (see Fit).
	ContextBudget int
}

// Budget is the model's context budget.
func (m Model) Budget() int {
	if m.ContextBudget <= 0 {
		return DefaultBudget
	}
	return m.ContextBudget
}

// Agent is an LLM agent with a system prompt. It implements team.Agent.
type Agent struct {
	ID     string
	System string
	Client Client
	Model  Model
	// Final, when set, tells whether a message ends the run and, if so,
	// its summary: the answer to the request.
	Final func(content string) (summary string, final bool)
}

// Name returns the agent's name in the conversation.
func (a *Agent) Name() string { return a.ID }

// Messages renders the history as the agent sees it, within the model's
// context budget: its own messages as the assistant's, everyone else's as
// the user's, labelled with who wrote them, and last the kernel's state
// after the latest cells. Consecutive user turns are joined, for servers
// whose chat templates demand alternating roles.
func (a *Agent) Messages(history []team.Message) []llm.Message {
	return a.prompt(history, a.Model.Budget())
}

// prompt renders the history within budget tokens. Each request is a
// pinned step, and so is the first answer to it (the planner's plan); the
// other messages form steps that end with the executor's results.
func (a *Agent) prompt(history []team.Message, budget int) []llm.Message {
	var steps []Step
	var state string
	open, pinNext := false, false
	for _, m := range history {
		role, content := "user", m.Content
		switch m.Agent {
		case a.ID:
			role = "assistant"
		case team.UserAgent:
		default:
			content = fmt.Sprintf("[%s]\n%s", m.Agent, m.Content)
		}
		if m.State != "" {
			state = m.State
		}
		msg := llm.Message{Role: role, Content: content}
		switch {
		case m.Agent == team.UserAgent || pinNext:
			// A request, or the first answer to one: a pinned step.
			steps = append(steps, Step{Msgs: []llm.Message{msg}, Pinned: true, Asked: m.Content})
			open, pinNext = false, m.Agent == team.UserAgent
			continue
		case !open:
			steps = append(steps, Step{})
			open = true
		}
		s := &steps[len(steps)-1]
		s.Msgs = append(s.Msgs, msg)
		if len(m.Cells) > 0 {
			s.Results = append(s.Results, m.Content)
			open = false
		} else if code := codeOf(m.Content); len(code) > 0 {
			s.Code = append(s.Code, code...)
		} else if s.Asked == "" {
			s.Asked = m.Content
		}
	}
	head := []llm.Message{{Role: "system", Content: a.System}}
	return joinUsers(Fit(head, steps, StateTail(state), budget))
}

// StateHeading introduces the kernel state card in a prompt.
const StateHeading = "[kernel state: the user's variables after the latest cell]"

// StateTail is the end of a prompt that shows the kernel state card: a user
// message, or none when state is "".
func StateTail(state string) []llm.Message {
	if state == "" {
		return nil
	}
	return []llm.Message{{Role: "user", Content: StateHeading + "\n" + state}}
}

// joinUsers joins consecutive user messages.
func joinUsers(msgs []llm.Message) []llm.Message {
	out := msgs[:0:0]
	for _, m := range msgs {
		if n := len(out); n > 0 && m.Role == "user" && out[n-1].Role == "user" {
			out[n-1].Content += "\n\n" + m.Content
			continue
		}
		out = append(out, m)
	}
	return out
}

// Act asks the model for the agent's next message, streaming it to emit.
func (a *Agent) Act(ctx context.Context, history []team.Message, emit func(team.Event)) (team.Message, error) {
	prompt := func(budget int) []llm.Message { return a.prompt(history, budget) }
	resp, err := a.Model.Ask(ctx, a.Client, a.ID, prompt, nil, emit)
	if err != nil {
		return team.Message{}, err
	}
	content := strings.TrimSpace(resp.Content)
	msg := team.Message{Agent: a.ID, Content: content, Usage: Usage(resp.Usage)}
	if a.Final != nil {
		msg.Summary, msg.Final = a.Final(content)
	}
	return msg, nil
}

// Ask asks the model for an answer on behalf of the named agent, as
// Complete does, to the prompt built within the model's context budget.
// When the server answers that the prompt is still longer than the model's
// context window, the prompt is built again within half the budget and
// asked once more; if that fails too, the error is the server's, of kind
// llm.ContextLength.
func (m Model) Ask(ctx context.Context, client Client, agent string, prompt func(budget int) []llm.Message, tools []llm.Tool, emit func(team.Event)) (llm.Response, error) {
	budget := m.Budget()
	resp, err := m.Complete(ctx, client, agent, prompt(budget), tools, emit)
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.ContextLength {
		return resp, err
	}
	emit(team.Notice{Text: fmt.Sprintf("the %s's prompt is too long for the model; compacting it to %d tokens and asking again", agent, budget/2), Warning: true})
	return m.Complete(ctx, client, agent, prompt(budget/2), tools, emit)
}

// Complete asks the model for an answer to msgs on behalf of the named
// agent, offering tools, and streams the answer's text to emit as
// TextDelta events, with Retry and TextRestart events when a request is
// retried.
func (m Model) Complete(ctx context.Context, client Client, agent string, msgs []llm.Message, tools []llm.Tool, emit func(team.Event)) (llm.Response, error) {
	req := llm.Request{
		Model:       m.Name,
		Messages:    msgs,
		Temperature: m.Temperature,
		TopP:        m.TopP,
		Tools:       tools,
		OnRetry: func(r llm.RetryEvent) {
			emit(team.Retry{Agent: agent, Attempt: r.Attempt, Wait: r.Wait, Reason: r.Reason})
		},
		OnRestart: func() { emit(team.TextRestart{Agent: agent}) },
	}
	return client.Stream(ctx, req, func(s string) {
		emit(team.TextDelta{Agent: agent, Text: s})
	})
}

// Usage is the LLM's usage as the team counts it.
func Usage(u llm.Usage) team.Usage {
	return team.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, Estimated: u.Estimated}
}
