package team

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// UserAgent is the name under which the task appears in the history.
const UserAgent = "user"

// Message is one turn of the conversation.
type Message struct {
	// Agent is the name of the agent that wrote the message, or UserAgent.
	Agent string
	// Content is what the other agents see of the message. For the executor
	// it is the capped, LLM-ready rendering of the cells it ran.
	Content string
	// Usage is the LLM usage spent producing the message, if any.
	Usage Usage
	// Cells are the indexes of the code cells the message ran, whose
	// events came before it.
	Cells []int
	// Final marks the message that ends the run (the planner's TERMINATION).
	Final bool
	// Summary is a final message's answer to the request, without the stop
	// word.
	Summary string
	// Next, when not empty, names the agent that takes the next turn instead
	// of the next one in round-robin order.
	Next string
	// Duration is how long the agent took to produce the message.
	Duration time.Duration
	// State, when not empty, describes the kernel's variables after the
	// message's cells (names, types, shapes), for the agents that plan and
	// write the next steps.
	State string
}

// Usage counts LLM tokens. It is also the usage's form in events.jsonl.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	// Estimated is set when the server reported no usage and the counts were
	// estimated from the text.
	Estimated bool `json:"estimated"`
}

// Total is PromptTokens + CompletionTokens.
func (u Usage) Total() int { return u.PromptTokens + u.CompletionTokens }

// Add returns the sum of u and v; the sum is estimated if either part is.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		Estimated:        u.Estimated || v.Estimated,
	}
}

// Agent is a participant of the conversation.
type Agent interface {
	// Name identifies the agent in the history and in events.
	Name() string
	// Act takes the agent's turn: it reads the history (the task first) and
	// returns its message. It reports progress (streamed text, cells,
	// retries) through emit as it goes.
	Act(ctx context.Context, history []Message, emit func(Event)) (Message, error)
}

// StopReason says why a run ended.
type StopReason string

// The reasons a run can end.
const (
	StopTerminated StopReason = "terminated" // an agent marked its message final
	StopMaxTurns   StopReason = "max-turns"
	StopTimeout    StopReason = "timeout"
	StopMaxTokens  StopReason = "max-tokens"
	StopCanceled   StopReason = "canceled"
	StopError      StopReason = "error"
)

// Limit reports whether the reason is one of the run's limits.
func (r StopReason) Limit() bool {
	return r == StopMaxTurns || r == StopTimeout || r == StopMaxTokens
}

// Options limit a run. Zero values mean no limit.
type Options struct {
	MaxTurns  int
	Timeout   time.Duration
	MaxTokens int
	// History is the conversation of earlier requests, which the agents see
	// before this one's task.
	History []Message
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Outcome is how a run ended.
type Outcome struct {
	Reason   StopReason
	Turns    int
	Messages []Message
	// Usage is the LLM usage per agent name.
	Usage    map[string]Usage
	Duration time.Duration
	// Err is the error that ended the run when Reason is StopError or
	// StopCanceled.
	Err error
}

// Total is the usage of all agents together.
func (o Outcome) Total() Usage {
	var t Usage
	for _, u := range o.Usage {
		t = t.Add(u)
	}
	return t
}

// Final is the message that ended the run, if it was marked final.
func (o Outcome) Final() (Message, bool) {
	if o.Reason == StopTerminated && len(o.Messages) > 0 {
		return o.Messages[len(o.Messages)-1], true
	}
	return Message{}, false
}

// Run gives the agents turns in order, starting with agents[0], until one's
// message is final or a limit is reached. It always reports RunStarted first
// and RunFinished last to obs.
func Run(ctx context.Context, task string, agents []Agent, obs Observer, opts Options) Outcome {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if obs == nil {
		obs = ObserverFunc(func(Event) {})
	}
	start := now()
	names := make([]string, len(agents))
	byName := make(map[string]int, len(agents))
	for i, a := range agents {
		names[i] = a.Name()
		byName[a.Name()] = i
	}
	obs.Observe(RunStarted{Task: task, Agents: names, Time: start})

	out := Outcome{Usage: map[string]Usage{}}
	history := append(slices.Clip(opts.History), Message{Agent: UserAgent, Content: task})
	first := len(history)
	finish := func(r StopReason, err error) Outcome {
		out.Reason, out.Err = r, err
		out.Messages = history[first:]
		out.Duration = now().Sub(start)
		obs.Observe(RunFinished{Reason: r, Turns: out.Turns, Usage: out.Usage, Duration: out.Duration, Err: err})
		return out
	}
	if len(agents) == 0 {
		return finish(StopError, errors.New("team: no agents"))
	}

	runCtx := ctx
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, errRunTimeout)
		defer cancel()
	}

	next := 0
	for {
		if opts.MaxTurns > 0 && out.Turns >= opts.MaxTurns {
			return finish(StopMaxTurns, nil)
		}
		if err := stopCause(ctx, runCtx); err != nil {
			return finish(reasonFor(err), err)
		}
		agent := agents[next]
		out.Turns++
		obs.Observe(TurnStarted{Turn: out.Turns, Agent: agent.Name()})
		began := now()
		msg, err := agent.Act(runCtx, history, obs.Observe)
		if err != nil {
			if cause := stopCause(ctx, runCtx); cause != nil {
				return finish(reasonFor(cause), cause)
			}
			return finish(StopError, fmt.Errorf("%s: %w", agent.Name(), err))
		}
		msg.Agent = agent.Name()
		if msg.Duration == 0 {
			msg.Duration = now().Sub(began)
		}
		history = append(history, msg)
		out.Usage[msg.Agent] = out.Usage[msg.Agent].Add(msg.Usage)
		obs.Observe(MessageDone{Turn: out.Turns, Message: msg})

		if msg.Final {
			return finish(StopTerminated, nil)
		}
		if opts.MaxTokens > 0 && out.Total().Total() >= opts.MaxTokens {
			return finish(StopMaxTokens, nil)
		}
		if next, err = following(next, len(agents), msg.Next, byName); err != nil {
			return finish(StopError, fmt.Errorf("%s %w", agent.Name(), err))
		}
	}
}

// following is the index of the agent after agents[i] of n: the next in
// round-robin order, or the one named by handOver.
func following(i, n int, handOver string, byName map[string]int) (int, error) {
	if handOver == "" {
		return (i + 1) % n, nil
	}
	j, ok := byName[handOver]
	if !ok {
		return 0, fmt.Errorf("handed the turn to unknown agent %q", handOver)
	}
	return j, nil
}

var errRunTimeout = errors.New("the run's time limit was reached")

// stopCause returns why the run must stop now: the caller cancelled (parent)
// or the run's own time limit expired.
func stopCause(parent, run context.Context) error {
	if parent.Err() != nil {
		return context.Cause(parent)
	}
	if run.Err() != nil {
		return context.Cause(run)
	}
	return nil
}

// reasonFor names why the run's context ended: its time limit, a
// cancellation (the user's Ctrl-C, whose cause is or wraps
// context.Canceled), or a failure the caller cancelled it with.
func reasonFor(err error) StopReason {
	switch {
	case errors.Is(err, errRunTimeout):
		return StopTimeout
	case errors.Is(err, context.Canceled):
		return StopCanceled
	}
	return StopError
}
