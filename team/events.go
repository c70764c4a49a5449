package team

import "time"

// Event is something that happened during a run: one of the types below, or
// an event of the agents' own (such as a cell's start and end), which team
// passes on without knowing it. Observers switch on the concrete types.
type Event any

// RunStarted opens the stream.
type RunStarted struct {
	Task   string
	Agents []string
	Time   time.Time
}

// TurnStarted says that an agent's turn begins.
type TurnStarted struct {
	Turn  int
	Agent string
}

// TextDelta is a piece of an agent's message as it streams in.
type TextDelta struct {
	Agent string
	Text  string
}

// TextRestart says that the agent's streamed text so far is void: the LLM
// answer is being retried from the start.
type TextRestart struct {
	Agent string
}

// Retry reports that an LLM request failed and will be retried.
type Retry struct {
	Agent   string
	Attempt int
	Wait    time.Duration
	Reason  string
}

// Notice is a line of information for the user (a kernel started, state
// lost, a warning).
type Notice struct {
	Text string
	// Warning marks notices the user should act on.
	Warning bool
}

// MessageDone carries an agent's finished message.
type MessageDone struct {
	Turn    int
	Message Message
}

// Quoted is a message of an earlier conversation shown again (a replay, a
// resumed analysis): it is not part of this run's turns.
type Quoted struct {
	Agent   string
	Content string
}

// RunFinished closes the stream.
type RunFinished struct {
	Reason   StopReason
	Turns    int
	Usage    map[string]Usage
	Duration time.Duration
	Err      error
}

// Observer receives a run's events in order, from one goroutine at a time.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// Observers fans events out to each observer in order.
type Observers []Observer

// Observe passes e to every observer.
func (os Observers) Observe(e Event) {
	for _, o := range os {
		o.Observe(e)
	}
}
