// Package chat is the part the LLM agents share: it turns the team's history
// into a chat request from one agent's point of view, streams the answer as
// events and returns it as a team message.
package chat
