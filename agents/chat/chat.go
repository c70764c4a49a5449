// Package chat is the part the LLM agents share: it turns the team's history
// into a chat request from one agent's point of view, streams the answer as
// events and returns it as a team message.
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
	// IsFinal, when set, marks the messages that end the run.
	IsFinal func(content string) bool
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
	req := llm.Request{
		Model:       a.Model.Name,
		Messages:    a.Messages(history),
		Temperature: a.Model.Temperature,
		TopP:        a.Model.TopP,
		OnRetry: func(r llm.RetryEvent) {
			emit(team.Retry{Agent: a.ID, Attempt: r.Attempt, Wait: r.Wait, Reason: r.Reason})
		},
		OnRestart: func() { emit(team.TextRestart{Agent: a.ID}) },
	}
	resp, err := a.Client.Stream(ctx, req, func(s string) {
		emit(team.TextDelta{Agent: a.ID, Text: s})
	})
	if err != nil {
		return team.Message{}, err
	}
	content := strings.TrimSpace(resp.Content)
	return team.Message{
		Agent:   a.ID,
		Content: content,
		Final:   a.IsFinal != nil && a.IsFinal(content),
		Usage: team.Usage{
			PromptTokens:     resp.Usage.PromptTokens,
			CompletionTokens: resp.Usage.CompletionTokens,
			Estimated:        resp.Usage.Estimated,
		},
	}, nil
}
