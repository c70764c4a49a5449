package human

import (
	"errors"
	"os"
	"strconv"
	"time"
)

// Duration rounds d for people: 420ms, 1.2s, 3m12s.
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// Plural counts things: "1 turn", "3 turns".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// PathProblem words a file error for a one-line message: "no such file",
// "permission denied", or the error itself.
func PathProblem(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}
