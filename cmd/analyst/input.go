package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/prompts"
)

// checkLLMEnv fails at once when nothing names an LLM server: without a key
// and a base URL the requests would go to OpenAI unauthenticated, and fail
// only after their retries. A local server (Ollama, llama.cpp) needs a base
// URL and no key.
func checkLLMEnv() error {
	if os.Getenv(envAPIKey) == "" && os.Getenv(envBaseURL) == "" {
		return usageErrorf("%s is not set: set it to your LLM server's API key, or set %s for a server that needs none (e.g. Ollama: http://127.0.0.1:11434/v1)", envAPIKey, envBaseURL)
	}
	return nil
}

// promptFiles are the files a --prompts directory may hold.
var promptFiles = []string{prompts.Planner, prompts.Writer, prompts.Tool}

// checkPromptsDir checks that --prompts names a directory holding at least
// one prompt file: a typo would otherwise silently run the built-in prompts.
func checkPromptsDir(dir string) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return usageErrorf("--prompts %s: no such directory", dir)
	case err != nil:
		return usageErrorf("--prompts %s: %s", dir, human.PathProblem(err))
	case !fi.IsDir():
		return usageErrorf("--prompts %s is a file: pass the directory that holds %s", dir, strings.Join(promptFiles, ", "))
	}
	if !slices.ContainsFunc(promptFiles, func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}) {
		return usageErrorf("--prompts %s holds none of %s", dir, strings.Join(promptFiles, ", "))
	}
	return nil
}

// readTask resolves the task text: from --task-file FILE, or from standard
// input with --task -.
func readTask(stdin io.Reader, task, file string) (string, error) {
	switch {
	case file != "" && task != "":
		return "", usageErrorf("give the task either with --task or with --task-file, not both")
	case file == "-" || (file == "" && task == "-"):
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", fmt.Errorf("read the task from standard input: %w", err)
		}
		return string(b), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usageErrorf("--task-file %s: %s", file, human.PathProblem(err))
		}
		return string(b), nil
	}
	return task, nil
}
