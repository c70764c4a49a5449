package writer

import (
	"github.com/analyst-dev/analyst/agents/chat"
	"github.com/analyst-dev/analyst/team"
)

// Name is the writer's name in the conversation.
const Name = "writer"

// New returns the writer: an LLM agent with the given system prompt.
func New(client chat.Client, model chat.Model, system string) team.Agent {
	return &chat.Agent{ID: Name, System: system, Client: client, Model: model}
}
