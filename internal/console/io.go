package console

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
)

// ColorProfile is the range of colours a stream can show.
type ColorProfile int

// The colour profiles, from none to the most.
const (
	NoColor   ColorProfile = iota // plain text: no escape codes at all
	ANSI                          // the 16 basic colours
	ANSI256                       // the 256-colour palette
	TrueColor                     // 24-bit colour
)

func (p ColorProfile) termenv() termenv.Profile {
	switch p {
	case ANSI:
		return termenv.ANSI
	case ANSI256:
		return termenv.ANSI256
	case TrueColor:
		return termenv.TrueColor
	}
	return termenv.Ascii
}

func profileFrom(p termenv.Profile) ColorProfile {
	switch p {
	case termenv.ANSI:
		return ANSI
	case termenv.ANSI256:
		return ANSI256
	case termenv.TrueColor:
		return TrueColor
	}
	return NoColor
}

// IO is the program's standard streams together with what is known about
// them: whether each output stream is a terminal and which colours it shows.
// Results go to Out; progress and chatter go to Err.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	outTTY, errTTY         bool
	outProfile, errProfile ColorProfile
}

// System returns an IO for the process's standard streams. A stream is
// coloured only when it is a terminal, NO_COLOR is unset or empty and TERM is
// not "dumb"; the colour depth then follows the environment (COLORTERM,
// TERM, CLICOLOR).
func System() *IO {
	s := &IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	s.outTTY = isTerminal(os.Stdout)
	s.errTTY = isTerminal(os.Stderr)
	s.outProfile = detectProfile(s.outTTY, termenv.NewOutput(os.Stdout).EnvColorProfile)
	s.errProfile = detectProfile(s.errTTY, termenv.NewOutput(os.Stderr).EnvColorProfile)
	return s
}

// Test returns an IO whose input is empty and whose output streams are the
// returned buffers. No stream is a terminal and none is coloured; the Set
// methods change that.
func Test() (*IO, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IO{In: &bytes.Buffer{}, Out: out, Err: errOut}, out, errOut
}

// OutTTY reports whether Out is a terminal.
func (s *IO) OutTTY() bool { return s.outTTY }

// ErrTTY reports whether Err is a terminal.
func (s *IO) ErrTTY() bool { return s.errTTY }

// ColorOut reports whether output written to Out may be coloured.
func (s *IO) ColorOut() bool { return s.outProfile != NoColor }

// ColorErr reports whether output written to Err may be coloured.
func (s *IO) ColorErr() bool { return s.errProfile != NoColor }

// SetColorProfile forces the colour profile of both Out and Err, whatever
// the streams and the environment are. It is meant for tests.
func (s *IO) SetColorProfile(p ColorProfile) {
	s.outProfile, s.errProfile = p, p
}

// SetErrTTY makes Err count as a terminal, or not, whatever it is: spinners
// and status lines are drawn on it. It is meant for tests.
func (s *IO) SetErrTTY(tty bool) { s.errTTY = tty }

// OutStyles returns the styles for text written to Out.
func (s *IO) OutStyles() Styles { return NewStyles(newRenderer(s.Out, s.outProfile)) }

// ErrStyles returns the styles for text written to Err.
func (s *IO) ErrStyles() Styles { return NewStyles(newRenderer(s.Err, s.errProfile)) }

func isTerminal(f *os.File) bool {
	fd := f.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

// detectProfile decides the colour profile of a standard stream. The
// stream's termenv output reads the environment (NO_COLOR, CLICOLOR,
// COLORTERM, TERM) in envProfile; the checks before it make sure that a pipe
// or a dumb terminal never gets colour, even with CLICOLOR_FORCE.
func detectProfile(tty bool, envProfile func() termenv.Profile) ColorProfile {
	if !tty || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return NoColor
	}
	return profileFrom(envProfile())
}
