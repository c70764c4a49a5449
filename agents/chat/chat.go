package chat

import (
	"context"
	"fmt"
	"strings"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/team"
)

// Client is the LLM client the agents need.
type Client interface {
	Stream(ctx context.Context, req llm.Request, onDelta func(string)) (llm.Response, error)
}

// Model says which model answers and how it samples.
type Model struct {
	Name        string
	Temperature *float32
	TopP        *float32
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

// Messages renders the history as the agent sees it: its own messages as the
// assistant's, everyone else's as the user's, labelled with who wrote them.
// Consecutive user turns are joined, for servers whose chat templates demand
// alternating roles.
func (a *Agent) Messages(history []team.Message) []llm.Message {
	msgs := []llm.Message{{Role: "system", Content: a.System}}
	for _, m := range history {
		role, content := "user", m.Content
		switch m.Agent {
		case a.ID:
			role = "assistant"
		case team.UserAgent:
		default:
			content = fmt.Sprintf("[%s]\n%s", m.Agent, m.Content)
		}
		if last := &msgs[len(msgs)-1]; last.Role == role && role == "user" {
			last.Content += "\n\n" + content
			continue
		}
		msgs = append(msgs, llm.Message{Role: role, Content: content})
	}
	return msgs
}

// Act asks the model for the agent's next message, streaming it to emit.
func (a *Agent) Act(ctx context.Context, history []team.Message, emit func(team.Event)) (team.Message, error) {
	resp, err := a.Model.Complete(ctx, a.Client, a.ID, a.Messages(history), nil, emit)
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
