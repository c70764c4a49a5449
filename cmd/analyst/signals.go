package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/kernel"
)

// signalError is the cause of a context cancelled by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "interrupted by " + signalName(e.sig) }

// Is makes a signal count as a cancellation: errors.Is(err, context.Canceled).
func (e signalError) Is(target error) bool { return target == context.Canceled }

// code is the shell's exit code for a process ended by the signal.
func (e signalError) code() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitInterrupted
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "Ctrl-C (SIGINT)"
	case syscall.SIGPIPE:
		return "a closed output (broken pipe)"
	}
	return fmt.Sprintf("%v (%s)", sig, unixName(sig))
}

func unixName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return sig.String()
}

// lastResort holds the clean-ups to attempt when a second signal ends the
// process at once: deleting the kernel, stopping a local gateway.
type lastResort struct {
	mu    sync.Mutex
	funcs map[int]func(context.Context)
	next  int
}

type lastResortKey struct{}

// trap is where a Ctrl-C goes while a request of an interactive run is
// under way: to that request alone.
type trap struct {
	mu sync.Mutex
	f  func()
}

type trapKey struct{}

// trapInterrupt makes the next SIGINT call f instead of ending the
// command, until the returned function is called.
func trapInterrupt(ctx context.Context, f func()) func() {
	t, ok := ctx.Value(trapKey{}).(*trap)
	if !ok {
		return func() {}
	}
	t.mu.Lock()
	t.f = f
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		t.f = nil
		t.mu.Unlock()
	}
}

// take returns the trap's function and clears it, for a SIGINT.
func (t *trap) take(sig os.Signal) func() {
	if sig != os.Interrupt {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.f
	t.f = nil
	return f
}

// onSecondSignal registers f to run, best effort, if a second signal makes
// the process exit before the normal clean-up is done. The returned function
// unregisters it.
func onSecondSignal(ctx context.Context, f func(context.Context)) func() {
	lr, ok := ctx.Value(lastResortKey{}).(*lastResort)
	if !ok {
		return func() {}
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	id := lr.next
	lr.next++
	lr.funcs[id] = f
	return func() {
		lr.mu.Lock()
		defer lr.mu.Unlock()
		delete(lr.funcs, id)
	}
}

// lastResortWait bounds the clean-up after a second signal.
const lastResortWait = 2 * time.Second

// run calls every registered clean-up at once and waits for them, at most
// lastResortWait.
func (lr *lastResort) run() {
	lr.mu.Lock()
	funcs := make([]func(context.Context), 0, len(lr.funcs))
	for _, f := range lr.funcs {
		funcs = append(funcs, f)
	}
	lr.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), lastResortWait)
	defer cancel()
	var wg sync.WaitGroup
	for _, f := range funcs {
		wg.Go(func() { f(ctx) })
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// signalContext returns a context cancelled, with a signalError as its cause,
// by the first SIGINT or SIGTERM. The command then winds down cleanly: the
// cell is interrupted, records are kept, the kernel is deleted. A second
// signal exits at once, after a best-effort run of the clean-ups registered
// with onSecondSignal.
//
// SIGPIPE is caught too, so that a write to a closed standard output fails
// with EPIPE instead of killing the process: guardPipes turns that failure
// into the same clean wind-down. The signal itself is dropped; it also comes
// for sockets whose peer went away, which the code handles where it writes.
func signalContext(parent context.Context) (context.Context, func()) {
	lr := &lastResort{funcs: map[int]func(context.Context){}}
	tr := &trap{}
	ctx, cancel := context.WithCancelCause(context.WithValue(context.WithValue(parent, lastResortKey{}, lr), trapKey{}, tr))
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	done := make(chan struct{})
	next := func() (os.Signal, bool) {
		for {
			select {
			case sig := <-ch:
				if sig != syscall.SIGPIPE {
					return sig, true
				}
			case <-done:
				return nil, false
			}
		}
	}
	go func() {
		for {
			sig, ok := next()
			if !ok {
				return
			}
			if f := tr.take(sig); f != nil {
				f() // an interactive run's request ends; the run goes on
				continue
			}
			cancel(signalError{sig})
			break
		}
		if sig, ok := next(); ok {
			fmt.Fprintf(os.Stderr, "\nanalyst: %s again: deleting the kernel and exiting now\n", signalName(sig))
			lr.run()
			os.Exit(signalError{sig}.code())
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// pipeWriter is a standard output stream that calls broken when a write
// fails because the reader went away (analyst run ... | head -3).
type pipeWriter struct {
	w      io.Writer
	broken func()
}

func (p *pipeWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		p.broken()
	}
	return n, err
}

// guardPipes returns a copy of s whose output streams cancel the returned
// context, with SIGPIPE's signalError as the cause, when their reader goes
// away: a closed output ends the command as cleanly as Ctrl-C does (kernel
// deleted, records finished, local gateway stopped), with exit code 141.
func guardPipes(ctx context.Context, s *console.IO) (context.Context, *console.IO) {
	ctx, cancel := context.WithCancelCause(ctx)
	broken := func() { cancel(signalError{syscall.SIGPIPE}) }
	guarded := *s
	guarded.Out = &pipeWriter{w: s.Out, broken: broken}
	guarded.Err = &pipeWriter{w: s.Err, broken: broken}
	return ctx, &guarded
}

// notice returns a function that writes a line on w as analyst's.
func notice(w io.Writer) func(msg string) {
	return func(msg string) { fmt.Fprintf(w, "analyst: %s\n", msg) }
}

// withReclaim returns err, the failed start of a kernel, after deleting the
// kernel of a start that ctx's end abandoned, should it appear in time (see
// kernel.Reclaim): Ctrl-C ends the wait for the gateway's answer at once,
// and no kernel is left behind.
func withReclaim(ctx context.Context, err error, tell func(string), later string) error {
	if rerr := kernel.Reclaim(ctx, err, 0, tell, later); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// interruptedBy returns the signal that cancelled ctx, if one did.
func interruptedBy(ctx context.Context) (signalError, bool) {
	var se signalError
	ok := errors.As(context.Cause(ctx), &se)
	return se, ok
}
