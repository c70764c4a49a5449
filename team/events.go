package team

import "time"

// Event is something that happened during a run. The concrete types are
// listed below; observers switch on them.
type Event interface{ event() }

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

// CellStarted says that a code cell is about to run.
type CellStarted struct {
	Agent    string
	Index    int
	Language string
	Code     string
}

// CellFinished reports a cell's result.
type CellFinished struct {
	Agent string
	Cell  Cell
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

// RunFinished closes the stream.
type RunFinished struct {
	Reason   StopReason
	Turns    int
	Usage    map[string]Usage
	Duration time.Duration
	Err      error
}

func (RunStarted) event()   {}
func (TurnStarted) event()  {}
func (TextDelta) event()    {}
func (TextRestart) event()  {}
func (Retry) event()        {}
func (CellStarted) event()  {}
func (CellFinished) event() {}
func (Notice) event()       {}
func (MessageDone) event()  {}
func (RunFinished) event()  {}

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
