package kernel

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// Close does not wait for a start request the gateway never answers: it
// cancels the start, looks for the kernel the request may still launch for
// as long as ReclaimWait allows, and says so, before and after.
func TestCloseAbandonsAHangingStart(t *testing.T) {
	posted := make(chan struct{}, 1)
	hold := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"version": "2.20.0"}`) })
	mux.HandleFunc("GET /api/kernels", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `[]`) })
	mux.HandleFunc("POST /api/kernels", func(w http.ResponseWriter, r *http.Request) {
		posted <- struct{}{}
		<-hold
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(hold)
	c, err := jupyter.NewClient(jupyter.Config{URL: srv.URL, LaunchTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	h := Start(context.Background(), Options{
		Client:      c,
		ReclaimWait: 50 * time.Millisecond,
		OnCleanup:   func(msg string) { lines = append(lines, msg) },
	})
	<-posted
	if err := h.Close(context.Background()); err != nil {
		t.Errorf("Close = %v", err)
	}
	want := []string{
		"the kernel start was cancelled before the gateway answered; waiting up to 50ms for the kernel it may still start, to delete it",
		"kernel start abandoned: no kernel of it within 50ms; if the gateway starts it later, `analyst kernels prune` removes it",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("Close said %q, want %q", lines, want)
	}
	var abandoned *jupyter.AbandonedStartError
	if _, err := h.Wait(context.Background()); !errors.Is(err, ErrClosed) || !errors.As(err, &abandoned) {
		t.Errorf("Wait = %v, want ErrClosed and the abandoned start", err)
	}
}
