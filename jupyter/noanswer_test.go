package jupyter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// TestConnectToKernelThatNeverAnswers connects to a kernel whose process
// runs but never serves its ports (an ipykernel that lost its IOPub port at
// start): Connect gives up after the client's LaunchTimeout, the WebSocket
// handshake the server holds for the kernel included, and says so with
// ErrNoAnswer.
func TestConnectToKernelThatNeverAnswers(t *testing.T) {
	srv, c := newClient(t)
	srv.AddPortClashSpec(t, "clash-connect")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k := startKernel(ctx, t, c, jupyter.StartOptions{Name: "clash-connect"})
	short, err := jupyter.NewClient(jupyter.Config{URL: srv.URL, Token: srv.Token, LaunchTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s, err := short.Connect(ctx, k.ID, jupyter.SessionOptions{})
	if err == nil {
		s.Close()
		t.Fatal("Connect succeeded to a kernel that cannot answer")
	}
	if !errors.Is(err, jupyter.ErrNoAnswer) {
		t.Errorf("err = %v, want one wrapping ErrNoAnswer", err)
	}
	if want := "connect to kernel " + k.ID + ": the kernel did not answer within 5s"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}
