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

// Bytes counts bytes in decimal units, as rates are given: 512 B, 1.5 kB,
// 120 MB, 2.3 GB; three significant digits at most.
func Bytes(n int64) string {
	if n < 1000 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, unit := float64(n), 0
	for v >= 999.5 && unit < 4 {
		v /= 1000
		unit++
	}
	digits := 1
	if v >= 99.95 {
		digits = 0
	}
	return strconv.FormatFloat(v, 'f', digits, 64) + " " + []string{"", "kB", "MB", "GB", "TB"}[unit]
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
