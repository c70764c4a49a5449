package main

import (
	"context"
	"os"

	"github.com/analyst-dev/analyst/internal/console"
)

func main() {
	ctx, stop := signalContext(context.Background())
	code := run(ctx, os.Args[1:], console.System())
	stop()
	os.Exit(code)
}
