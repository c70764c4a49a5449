package team

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// scripted is an agent that answers from a list, recording what it saw.
type scripted struct {
	name    string
	replies []Message
	seen    [][]Message
}

func (a *scripted) Name() string { return a.name }

func (a *scripted) Act(ctx context.Context, h []Message, emit func(Event)) (Message, error) {
	a.seen = append(a.seen, h)
	if len(a.replies) == 0 {
		return Message{}, fmt.Errorf("%s has nothing more to say", a.name)
	}
	m := a.replies[0]
	a.replies = a.replies[1:]
	emit(TextDelta{Agent: a.name, Text: m.Content})
	return m, nil
}

type recorder struct{ events []Event }

func (r *recorder) Observe(e Event) { r.events = append(r.events, e) }

func (r *recorder) kinds() string {
	var s []string
	for _, e := range r.events {
		s = append(s, strings.TrimPrefix(fmt.Sprintf("%T", e), "team."))
	}
	return strings.Join(s, " ")
}

func TestRunRoundRobinUntilFinal(t *testing.T) {
	p := &scripted{name: "planner", replies: []Message{
		{Content: "step 1", Usage: Usage{PromptTokens: 10, CompletionTokens: 2}},
		{Content: "done TERMINATION", Final: true, Usage: Usage{PromptTokens: 30, CompletionTokens: 5, Estimated: true}},
	}}
	w := &scripted{name: "writer", replies: []Message{{Content: "code", Usage: Usage{PromptTokens: 20, CompletionTokens: 7}}}}
	x := &scripted{name: "executor", replies: []Message{{Content: "output"}}}
	rec := &recorder{}
	out := Run(context.Background(), "the task", []Agent{p, w, x}, rec, Options{MaxTurns: 10})

	if out.Reason != StopTerminated || out.Turns != 4 || out.Err != nil {
		t.Fatalf("outcome = %v after %d turns (err %v), want terminated after 4", out.Reason, out.Turns, out.Err)
	}
	var order []string
	for _, m := range out.Messages {
		order = append(order, m.Agent)
	}
	if got := strings.Join(order, ","); got != "planner,writer,executor,planner" {
		t.Errorf("order = %s", got)
	}
	if got := out.Usage["planner"]; got != (Usage{PromptTokens: 40, CompletionTokens: 7, Estimated: true}) {
		t.Errorf("planner usage = %+v", got)
	}
	if got := out.Total(); got.Total() != 74 || !got.Estimated {
		t.Errorf("total = %+v, want 74 tokens, estimated", got)
	}
	final, ok := out.Final()
	if !ok || final.Content != "done TERMINATION" {
		t.Errorf("Final() = %q, %v", final.Content, ok)
	}
	// The planner's second turn saw the task and the three messages before it.
	if h := p.seen[1]; len(h) != 4 || h[0].Agent != UserAgent || h[0].Content != "the task" || h[3].Content != "output" {
		t.Errorf("planner's second history = %+v", h)
	}
	want := "RunStarted TurnStarted TextDelta MessageDone TurnStarted TextDelta MessageDone TurnStarted TextDelta MessageDone TurnStarted TextDelta MessageDone RunFinished"
	if got := rec.kinds(); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	if end := rec.events[len(rec.events)-1].(RunFinished); end.Reason != StopTerminated || end.Turns != 4 {
		t.Errorf("RunFinished = %+v", end)
	}
}

func TestRunHandsTurnToNamedAgent(t *testing.T) {
	p := &scripted{name: "planner", replies: []Message{{Content: "step"}, {Content: "TERMINATION", Final: true}}}
	w := &scripted{name: "writer", replies: []Message{{Content: "no code here"}, {Content: "```python\n1\n```"}}}
	x := &scripted{name: "executor", replies: []Message{{Content: "no code", Next: "writer"}, {Content: "1"}}}
	out := Run(context.Background(), "t", []Agent{p, w, x}, nil, Options{})
	var order []string
	for _, m := range out.Messages {
		order = append(order, m.Agent)
	}
	if got := strings.Join(order, ","); got != "planner,writer,executor,writer,executor,planner" {
		t.Errorf("order = %s (reason %v, err %v)", got, out.Reason, out.Err)
	}
}

func TestRunLimitsAndErrors(t *testing.T) {
	chatty := func() *scripted {
		a := &scripted{name: "a"}
		for range 100 {
			a.replies = append(a.replies, Message{Content: "more", Usage: Usage{PromptTokens: 40, CompletionTokens: 10}})
		}
		return a
	}
	tests := []struct {
		name   string
		agents []Agent
		opts   Options
		reason StopReason
		turns  int
		err    string
	}{
		{"max turns", []Agent{chatty()}, Options{MaxTurns: 3}, StopMaxTurns, 3, ""},
		{"max tokens", []Agent{chatty()}, Options{MaxTokens: 120}, StopMaxTokens, 3, ""},
		{"agent error", []Agent{&scripted{name: "mute"}}, Options{}, StopError, 1, "mute: mute has nothing more to say"},
		{"unknown handoff", []Agent{&scripted{name: "a", replies: []Message{{Next: "ghost"}}}}, Options{}, StopError, 1, `a handed the turn to unknown agent "ghost"`},
		{"no agents", nil, Options{}, StopError, 0, "team: no agents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Run(context.Background(), "t", tt.agents, nil, tt.opts)
			if out.Reason != tt.reason || out.Turns != tt.turns {
				t.Errorf("got %v after %d turns, want %v after %d", out.Reason, out.Turns, tt.reason, tt.turns)
			}
			if got := fmt.Sprint(out.Err); tt.err != "" && got != tt.err || tt.err == "" && out.Err != nil {
				t.Errorf("err = %v, want %q", out.Err, tt.err)
			}
			if tt.reason.Limit() != (tt.err == "" && tt.reason != StopTerminated) {
				t.Errorf("%v.Limit() = %v", tt.reason, tt.reason.Limit())
			}
		})
	}
}

// blocker waits for its context to end, as an agent stuck in an LLM call or
// a cell does.
type blocker struct{ started chan struct{} }

func (blocker) Name() string { return "blocker" }

func (b blocker) Act(ctx context.Context, _ []Message, _ func(Event)) (Message, error) {
	if b.started != nil {
		close(b.started)
	}
	<-ctx.Done()
	return Message{}, ctx.Err()
}

func TestRunTimeout(t *testing.T) {
	out := Run(context.Background(), "t", []Agent{blocker{}}, nil, Options{Timeout: time.Millisecond})
	if out.Reason != StopTimeout || !out.Reason.Limit() {
		t.Fatalf("reason = %v (err %v), want timeout", out.Reason, out.Err)
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := fmt.Errorf("Ctrl-C: %w", context.Canceled)
	b := blocker{started: make(chan struct{})}
	go func() {
		<-b.started
		cancel(stop)
	}()
	out := Run(ctx, "t", []Agent{b}, nil, Options{Timeout: time.Hour})
	if out.Reason != StopCanceled || !errors.Is(out.Err, stop) {
		t.Fatalf("got %v, %v; want canceled by %v", out.Reason, out.Err, stop)
	}
}

// TestHistory checks that a second request sees the first one's
// conversation, and that the outcome holds only its own messages.
func TestHistory(t *testing.T) {
	var seen []Message
	a := &answerer{name: "a", seen: &seen}
	first := Run(context.Background(), "first", []Agent{a}, nil, Options{})
	second := Run(context.Background(), "second", []Agent{a}, nil, Options{History: append([]Message{{Agent: UserAgent, Content: "first"}}, first.Messages...)})
	if len(second.Messages) != 1 || second.Messages[0].Content != "answer 2" {
		t.Fatalf("second request's messages = %+v", second.Messages)
	}
	var got []string
	for _, m := range seen {
		got = append(got, m.Content)
	}
	if want := "first|answer 1|second"; strings.Join(got, "|") != want {
		t.Errorf("the second turn saw %q, want %q", strings.Join(got, "|"), want)
	}
}

// answerer answers "answer N" and ends the run, keeping the history it was
// given last.
type answerer struct {
	name string
	n    int
	seen *[]Message
}

func (r *answerer) Name() string { return r.name }

func (r *answerer) Act(_ context.Context, h []Message, _ func(Event)) (Message, error) {
	r.n++
	*r.seen = slices.Clone(h)
	return Message{Content: fmt.Sprintf("answer %d", r.n), Final: true}, nil
}

func TestRunStoppedByFailure(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	boom := errors.New("the kernel could not start")
	b := blocker{started: make(chan struct{})}
	go func() {
		<-b.started
		cancel(boom)
	}()
	out := Run(ctx, "t", []Agent{b}, nil, Options{})
	if out.Reason != StopError || !errors.Is(out.Err, boom) {
		t.Fatalf("got %v, %v; want error %v", out.Reason, out.Err, boom)
	}
}
