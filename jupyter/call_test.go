package jupyter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestLongLineRedactedOnce: a line that arrives in many chunks is redacted
// once, whole, with a secret split between two chunks found, and reported
// once with the same text the result keeps.
func TestLongLineRedactedOnce(t *testing.T) {
	const secret = "SENTINEL-secret-4e1f"
	line := strings.Repeat("x", 5000) + secret + strings.Repeat("y", 5000) + "\n"
	var calls []string
	var reported strings.Builder
	c := newCall("id", executeCall, 1<<20)
	c.redact = func(s string) string {
		calls = append(calls, s)
		return strings.ReplaceAll(s, secret, "[gone]")
	}
	c.onOutput = func(o Output) { reported.WriteString(o.Text) }
	for i := 0; i < len(line); i += 7 {
		c.addStream("stdout", line[i:min(i+7, len(line))])
	}
	c.addStream("stdout", "tail without a newline")
	res, err := c.finish()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(line, secret, "[gone]", 1) + "tail without a newline"
	if len(res.Outputs) != 1 || res.Outputs[0].Text != want {
		t.Fatalf("outputs %+v", res.Outputs)
	}
	if len(calls) != 2 || calls[0] != line || calls[1] != "tail without a newline" {
		t.Errorf("redacted %d times (%.40q …), want the line then the tail", len(calls), calls)
	}
	if reported.String() != want {
		t.Errorf("reported %q", reported.String())
	}
}

// BenchmarkLongLineRedacted streams one 4 MiB line in 4 KiB chunks through a
// redacting call: its cost is linear in the line's length.
func BenchmarkLongLineRedacted(b *testing.B) {
	chunk := strings.Repeat("x", 4<<10)
	b.SetBytes(4 << 20)
	for b.Loop() {
		c := newCall("id", executeCall, 8<<20)
		c.redact = func(s string) string { return s }
		for range 1024 {
			c.addStream("stdout", chunk)
		}
		c.addStream("stdout", "\n")
		c.finish()
	}
}

// TestUntilAnsweredSaysWhyItStopped: an attempt whose own wait ended as the
// bound passed (both at once, on a loaded machine) does not hide the bound's
// cause, which callers look for (ErrNoAnswer).
func TestUntilAnsweredSaysWhyItStopped(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrNoAnswer)
	attempts := 0
	err := (&Session{}).untilAnswered(ctx, time.Second, time.Second, func(context.Context, time.Duration) (bool, error) {
		attempts++
		return false, errors.New("the kernel did not answer")
	})
	if err != ErrNoAnswer || attempts != 1 {
		t.Errorf("err = %v after %d attempts, want ErrNoAnswer after 1", err, attempts)
	}
}

// TestTracebackSecretSplitByColour: a secret that escape codes split in a
// traceback line is scrubbed from the line itself, which is then kept
// plain, and from the error output's text; other lines keep their colour.
func TestTracebackSecretSplitByColour(t *testing.T) {
	const secret = "SENTINEL-secret-4e1f"
	c := newCall("id", executeCall, 1<<20)
	c.redact = func(s string) string { return strings.ReplaceAll(s, secret, "[gone]") }
	c.addError(&ExecError{Name: "ValueError", Value: "bad", Traceback: []string{
		"\x1b[31mTraceback\x1b[0m",
		"key = '\x1b[32mSENTINEL-\x1b[0msecret-4e1f'",
	}})
	res, err := c.finish()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"\x1b[31mTraceback\x1b[0m", "key = '[gone]'"}
	if got := res.Error.Traceback; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("traceback %q, want %q", got, want)
	}
	if len(res.Outputs) != 1 || res.Outputs[0].Text != "Traceback\nkey = '[gone]'" {
		t.Errorf("outputs %+v", res.Outputs)
	}
}
