package jupyter_test

import (
	"context"
	"errors"
	"testing"

	"github.com/analyst-dev/analyst/jupyter"
)

// A start whose request gets no answer ends as soon as its context does,
// with an *jupyter.AbandonedStartError; its Reclaim deletes the kernel the
// request launched, found by the start's mark, whether the gateway had
// launched it already or does so while Reclaim looks, and says when none
// appeared.
func TestAbandonedStartReclaimed(t *testing.T) {
	tests := []struct {
		name        string
		launchFirst bool // launched with the start request
		launchLate  bool // launched after Reclaim found none
		wantID      string
	}{
		{"launched before", true, false, fakeKernel},
		{"launched late", false, true, fakeKernel},
		{"never launched", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := &lossyGateway{dropPosts: 1, launchFirst: tt.launchFirst, posted: make(chan struct{}, 1), listed: make(chan struct{}, 100)}
			c := g.client(t)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-g.posted
				cancel()
			}()
			_, err := c.StartKernel(ctx, jupyter.StartOptions{})
			var abandoned *jupyter.AbandonedStartError
			if !errors.As(err, &abandoned) || !errors.Is(err, context.Canceled) {
				t.Fatalf("StartKernel = %v, want an abandoned start, cancelled", err)
			}
			if want := `start kernel "python3": context canceled`; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			rctx, rcancel := context.WithCancel(context.Background())
			defer rcancel()
			go func() {
				<-g.listed // Reclaim looked, and found nothing yet (or took it)
				if tt.launchLate {
					g.mu.Lock()
					g.launched = true
					g.mu.Unlock()
				} else if !tt.launchFirst {
					rcancel() // its time is up
				}
			}()
			id, err := abandoned.Reclaim(rctx)
			if tt.wantID == "" {
				if id != "" || !errors.Is(err, jupyter.ErrNotReclaimed) {
					t.Errorf("Reclaim = %q, %v; want ErrNotReclaimed", id, err)
				}
			} else if id != tt.wantID || err != nil {
				t.Errorf("Reclaim = %q, %v; want %q", id, err, tt.wantID)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if want := tt.wantID != ""; g.gone != want || g.deletes != map[bool]int{true: 1}[want] {
				t.Errorf("kernel deleted %v (%d requests), want %v", g.gone, g.deletes, want)
			}
			if len(g.posts) != 1 {
				t.Errorf("%d start requests, want 1", len(g.posts))
			}
		})
	}
}
