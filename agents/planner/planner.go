package planner

import (
	"strings"

	"github.com/analyst-dev/analyst/agents/chat"
	"github.com/analyst-dev/analyst/team"
)

// Name is the planner's name in the conversation.
const Name = "planner"

// StopWord ends the run when the planner writes it.
const StopWord = "TERMINATION"

// New returns the planner: an LLM agent with the given system prompt whose
// message ends the run once it contains StopWord.
func New(client chat.Client, model chat.Model, system string) team.Agent {
	return &chat.Agent{
		ID: Name, System: system, Client: client, Model: model,
		Final: func(content string) (string, bool) {
			return Summary(content), strings.Contains(content, StopWord)
		},
	}
}

// Summary is the planner's final message without the stop word.
func Summary(content string) string {
	return strings.TrimSpace(strings.ReplaceAll(content, StopWord, ""))
}
