package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// nbFile keeps analysis.ipynb up to date at a cost that does not grow with
// the notebook: the cells before the frozen mark are on disk and never
// rendered again; each write renders the cells after it (the tail) and the
// closing lines, and writes them over the old tail.
//
// The notebook a reader opens is always whole, also after a kill -9 at any
// moment: two files hold it, the notebook and a hidden twin, both with the
// same content. A write updates the twin (a torn write there harms no one),
// gives the notebook's current file a second, hidden name, renames the twin
// over the notebook (atomic), then brings the old file up to date and makes
// it the twin. A reader sees the old notebook or the new one, never a part.
type nbFile struct {
	dir string
	// live and twin are the two files: live is named NotebookFile, twin
	// twinFile.
	live, twin *os.File
	// frozenEnd is where the tail starts in both files: after the frozen
	// cells and the separator that follows the last one.
	frozenEnd int64
	// frozen is how many cells are frozen.
	frozen int
	// tailLens are the rendered sizes of the tail's cells at the last write,
	// with their separators, so that freezing them moves frozenEnd.
	tailLens []int64
	// size is the files' size: a shorter write is padded with spaces to it,
	// which JSON ignores, so no byte of an older tail survives.
	size   int64
	suffix []byte
	// buf holds what write writes, reused from one write to the next.
	buf []byte
	// exchange swaps two files' names (see exchange); where it fails, a
	// write swaps them with a hard link (link: os.Link) and two renames.
	exchange func(a, b string) error
	link     func(oldname, newname string) error
}

// The hidden names of the notebook's twin and of the file being swapped.
const (
	twinFile = "." + NotebookFile + ".twin"
	swapFile = "." + NotebookFile + ".swap"
)

// nbPrefix opens the notebook's JSON, as json.MarshalIndent with a
// one-space indent writes it.
const nbPrefix = "{\n \"cells\": [\n"

// newNBFile writes a notebook holding cells (all rendered) in dir,
// replacing any earlier one and its twin.
func newNBFile(dir string, meta Meta, cells []nbCell) (*nbFile, error) {
	suffix, err := nbSuffix(meta)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{twinFile, swapFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("write %s: %w", NotebookFile, err)
		}
	}
	n := &nbFile{dir: dir, frozenEnd: int64(len(nbPrefix)), suffix: suffix, exchange: exchange, link: os.Link}
	if n.twin, err = os.OpenFile(filepath.Join(dir, twinFile), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	// The first version is written whole and renamed into place: it
	// replaces an older notebook atomically.
	tail, lens, err := renderTail(nil, cells, false)
	if err == nil {
		_, err = n.twin.WriteAt(append([]byte(nbPrefix), append(tail, suffix...)...), 0)
	}
	if err != nil {
		n.twin.Close()
		return nil, fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	n.tailLens = lens
	n.size = int64(len(nbPrefix) + len(tail) + len(suffix))
	if err := os.Rename(filepath.Join(dir, twinFile), filepath.Join(dir, NotebookFile)); err != nil {
		n.twin.Close()
		return nil, fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	n.live, n.twin = n.twin, nil
	// The twin starts as a copy: the only whole copy of the notebook this
	// type ever makes.
	if err := n.makeTwin(); err != nil {
		n.live.Close()
		return nil, err
	}
	return n, nil
}

// makeTwin creates the twin as a copy of the live file.
func (n *nbFile) makeTwin() error {
	b := make([]byte, n.size)
	if _, err := n.live.ReadAt(b, 0); err != nil {
		return fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	f, err := os.OpenFile(filepath.Join(n.dir, twinFile), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err == nil {
		_, err = f.WriteAt(b, 0)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	n.twin = f
	return nil
}

// write renders cells[n.frozen:] and puts them in place of the old tail.
func (n *nbFile) write(cells []nbCell) error {
	tail, lens, err := renderTail(n.buf[:0], cells[n.frozen:], n.frozen > 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	data := append(tail, n.suffix...)
	for end := n.frozenEnd + int64(len(data)); end < n.size; end++ {
		data = append(data, ' ')
	}
	n.buf = data
	// The twin first; then it becomes the notebook, and the old notebook
	// the twin, brought up to date.
	if _, err := n.twin.WriteAt(data, n.frozenEnd); err != nil {
		return fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	kept, err := n.swap(data)
	if err != nil {
		return err
	}
	n.tailLens = lens
	n.size = max(n.size, n.frozenEnd+int64(len(data)))
	if !kept {
		return n.makeTwin()
	}
	return nil
}

// swap makes the twin, which holds data at frozenEnd, the notebook, and the
// old notebook the twin, with data written to it too. Where the file system
// has no hard links, the old notebook is let go instead: kept is false, and
// the caller makes the twin again.
func (n *nbFile) swap(data []byte) (kept bool, err error) {
	live := filepath.Join(n.dir, NotebookFile)
	if n.exchange(filepath.Join(n.dir, twinFile), live) == nil {
		// One step where the file system can: the names swapped, the
		// old notebook, now the twin, is brought up to date.
		n.live, n.twin = n.twin, n.live
		if _, err := n.twin.WriteAt(data, n.frozenEnd); err != nil {
			return false, fmt.Errorf("write %s: %w", NotebookFile, err)
		}
		return true, nil
	}
	swap := filepath.Join(n.dir, swapFile)
	os.Remove(swap)
	if err := n.link(live, swap); err != nil {
		// A file system without hard links: the twin becomes the notebook
		// and a copy of it the next twin, at the cost of the copy.
		if err := os.Rename(filepath.Join(n.dir, twinFile), live); err != nil {
			return false, fmt.Errorf("write %s: %w", NotebookFile, err)
		}
		n.live.Close()
		n.live = n.twin
		return false, nil
	}
	if err := os.Rename(filepath.Join(n.dir, twinFile), live); err != nil {
		return false, fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	if _, err := n.live.WriteAt(data, n.frozenEnd); err != nil {
		return false, fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	if err := os.Rename(swap, filepath.Join(n.dir, twinFile)); err != nil {
		return false, fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	n.live, n.twin = n.twin, n.live
	return true, nil
}

// freeze marks the first upTo cells as final: they were written as they
// are by the last write and are never rendered again.
func (n *nbFile) freeze(upTo int) {
	for n.frozen < upTo && len(n.tailLens) > 0 {
		n.frozenEnd += n.tailLens[0]
		n.tailLens = n.tailLens[1:]
		n.frozen++
	}
}

// close trims the padding off the notebook, removes the twin and closes
// both files.
func (n *nbFile) close() error {
	end := n.frozenEnd + int64(sum(n.tailLens)) + int64(len(n.suffix))
	err := n.live.Truncate(end)
	err = errors.Join(err, n.live.Close(), n.twin.Close(), os.Remove(filepath.Join(n.dir, twinFile)))
	if err != nil {
		return fmt.Errorf("write %s: %w", NotebookFile, err)
	}
	return nil
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

// renderTail renders cells as elements of the notebook's cells array, each
// with the separator that joins it to the one before (after when first is
// false, the first cell of the array, has none).
func renderTail(b []byte, cells []nbCell, afterFrozen bool) (tail []byte, lens []int64, err error) {
	for i, c := range cells {
		start := len(b)
		if i > 0 || afterFrozen {
			b = append(b, ",\n"...)
		}
		b = append(b, "  "...)
		if b, err = appendCell(b, c, "  ", " "); err != nil {
			return nil, nil, err
		}
		lens = append(lens, int64(len(b)-start))
	}
	return b, lens, nil
}

// nbSuffix closes the cells array and writes the notebook's metadata.
func nbSuffix(meta Meta) ([]byte, error) {
	b, err := marshalIndent(struct {
		Metadata      map[string]any `json:"metadata"`
		NBFormat      int            `json:"nbformat"`
		NBFormatMinor int            `json:"nbformat_minor"`
	}{nbMetadata(meta), nbFormat, nbFormatMinor})
	if err != nil {
		return nil, fmt.Errorf("encode notebook: %w", err)
	}
	// b is "{\n \"metadata\": ...}\n": the object's body goes after the
	// cells array.
	return []byte("\n ],\n" + strings.TrimPrefix(string(b), "{\n")), nil
}
