package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// A run cancelled while its kernel start waits for a free slot on a gateway
// at its kernel limit ends at once, although the start request itself is
// never cancelled; the wait is announced through OnReady.
func TestStartQueueEndsWithTheRun(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			requests.Add(1)
		}
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"message": "Resource Limit: maximum of 1 kernels reached"})
	}))
	defer srv.Close()
	c, err := jupyter.NewClient(jupyter.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	notices := make(chan string, 4)
	ctx, cancel := context.WithCancel(context.Background())
	h := Start(ctx, Options{
		Client:  c,
		Start:   jupyter.StartOptions{Queue: jupyter.Queue{Timeout: time.Hour}},
		OnReady: func(msg string) { notices <- msg },
	})
	select {
	case msg := <-notices:
		if want := "gateway at its kernel limit; waiting for a free slot (up to 1h)"; msg != want {
			t.Errorf("notice = %q, want %q", msg, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notice that the start is waiting")
	}
	cancel()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if _, err := h.Wait(wctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled at once", err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Errorf("Close = %v", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d start requests, want 1 (the first wait is at least 500 ms)", n)
	}
}

// A run that ends (its LLM failed, a limit hit) while the start still queues
// is not held up by the queue: Close ends the wait.
func TestCloseEndsTheQueue(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"message": "A max kernels limit has been set to 1 and there are currently 1 active and pending kernel."})
	}))
	defer srv.Close()
	c, err := jupyter.NewClient(jupyter.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	notices := make(chan string, 4)
	h := Start(context.Background(), Options{
		Client:  c,
		Start:   jupyter.StartOptions{Queue: jupyter.Queue{Timeout: time.Hour}},
		OnReady: func(msg string) { notices <- msg },
	})
	select {
	case <-notices:
	case <-time.After(10 * time.Second):
		t.Fatal("no notice that the start is waiting")
	}
	closed := make(chan error, 1)
	go func() { closed <- h.Close(context.Background()) }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the queue")
	}
	if _, err := h.Wait(context.Background()); err == nil || !strings.Contains(err.Error(), "kernel slot") {
		t.Errorf("Wait = %v, want the start ended while queueing", err)
	}
}
