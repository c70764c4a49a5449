package cell

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register GIF for DecodeConfig
	_ "image/jpeg" // register JPEG for DecodeConfig
	_ "image/png"  // register PNG for DecodeConfig
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/analyst-dev/analyst/jupyter"
)

// ImageTypes are the image MIME types kept as figures, in order of
// preference when one output carries several, with their file extensions.
var ImageTypes = []struct{ MIME, Ext string }{
	{"image/png", ".png"},
	{"image/jpeg", ".jpg"},
	{"image/gif", ".gif"},
	{"image/svg+xml", ".svg"},
}

// Ext is the file extension of an image MIME type, ".bin" when unknown.
func Ext(mime string) string {
	for _, t := range ImageTypes {
		if t.MIME == mime {
			return t.Ext
		}
	}
	return ".bin"
}

// Image is an image found in an output, decoded: PNG, JPEG and GIF bytes,
// SVG as its XML text.
type Image struct {
	MIME string
	Data []byte
}

// ImageOf returns the output's image, if it has one: the first of
// ImageTypes that the output's MIME bundle holds and that decodes (PNG,
// JPEG and GIF are base64, possibly wrapped in lines; SVG is text).
func ImageOf(o jupyter.Output) (Image, bool) {
	for _, t := range ImageTypes {
		s, ok := o.Data[t.MIME].(string)
		if !ok {
			continue
		}
		if t.MIME == "image/svg+xml" {
			return Image{MIME: t.MIME, Data: []byte(s)}, true
		}
		if b, err := base64.StdEncoding.DecodeString(strings.Map(dropSpace, s)); err == nil {
			return Image{MIME: t.MIME, Data: b}, true
		}
	}
	return Image{}, false
}

// dropSpace drops white space: base64 in notebooks may carry newlines.
func dropSpace(r rune) rune {
	switch r {
	case '\n', '\r', ' ', '\t':
		return -1
	}
	return r
}

// Figure is an image a cell displayed, resolved once where it is saved.
type Figure struct {
	// Output is the index of the output in the cell's Result.Outputs.
	Output int `json:"output"`
	// Name is the file the image was saved as, "" when it was not saved.
	Name string `json:"name,omitempty"`
	// MIME is the image's type, as saved.
	MIME string `json:"mime"`
	// Width and Height are the image's size in pixels; 0 when the format
	// has none in its header (SVG) or the header does not decode.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
}

// Kind is the figure's type and size: "image/png 640x480".
func (f Figure) Kind() string {
	if f.Width > 0 && f.Height > 0 {
		return fmt.Sprintf("%s %dx%d", f.MIME, f.Width, f.Height)
	}
	return f.MIME
}

// Describe is how the LLM and the console see the figure:
// "image/png 640x480 saved as figure-3.png".
func (f Figure) Describe() string {
	desc := f.Kind()
	if f.Name != "" {
		desc += " saved as " + f.Name
	}
	return desc
}

// Store keeps the images that cells display and names them.
type Store interface {
	// SaveFigure stores an image and returns the name it is known by.
	SaveFigure(im Image) (name string, err error)
}

// figureOf describes the image of output i, saved under name.
func figureOf(i int, im Image, name string) Figure {
	f := Figure{Output: i, Name: name, MIME: im.MIME}
	if im.MIME != "image/svg+xml" {
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(im.Data)); err == nil {
			f.Width, f.Height = cfg.Width, cfg.Height
		}
	}
	return f
}

// SaveFigures saves every image among the cell's outputs in store (when
// not nil), decoding each once, and sets c.Figures. It returns the errors
// of the saves that failed; their figures have no name.
func (c *Cell) SaveFigures(store Store) []error {
	c.Figures = nil
	if c.Result == nil {
		return nil
	}
	var errs []error
	for i, o := range c.Result.Outputs {
		im, ok := ImageOf(o)
		if !ok {
			continue
		}
		name := ""
		if store != nil {
			n, err := store.SaveFigure(im)
			if err != nil {
				errs = append(errs, err)
			}
			name = n
		}
		c.Figures = append(c.Figures, figureOf(i, im, name))
	}
	return errs
}

// Figure returns the figure of output i, if it is an image.
func (c Cell) Figure(i int) (Figure, bool) {
	for _, f := range c.Figures {
		if f.Output == i {
			return f, true
		}
	}
	return Figure{}, false
}

// FigureNames are the names of the saved figures, in output order.
func (c Cell) FigureNames() []string {
	var names []string
	for _, f := range c.Figures {
		if f.Name != "" {
			names = append(names, f.Name)
		}
	}
	return names
}

// ResolveFigures matches recorded figure names to the image outputs of a
// recorded cell, in order: recordings made before figures were recorded
// with their outputs name them only.
func ResolveFigures(res *jupyter.Result, names []string) []Figure {
	if res == nil {
		return nil
	}
	var figs []Figure
	for i, o := range res.Outputs {
		im, ok := ImageOf(o)
		if !ok {
			continue
		}
		name := ""
		if n := len(figs); n < len(names) {
			name = names[n]
		}
		// The recorded name's extension says which of the bundle's images
		// was saved.
		if name != "" {
			for _, t := range ImageTypes {
				if strings.HasSuffix(strings.ToLower(name), t.Ext) && t.MIME != im.MIME {
					if s, ok := o.Data[t.MIME].(string); ok {
						alt := jupyter.Output{Type: o.Type, Data: map[string]any{t.MIME: s}}
						if im2, ok := ImageOf(alt); ok {
							im = im2
						}
					}
				}
			}
		}
		figs = append(figs, figureOf(i, im, name))
	}
	return figs
}

// FigureDir saves figures as figure-N.EXT in a directory, numbering them from
// 1 in the order they arrive. The names come only from the counter, never
// from kernel output; a name already taken is skipped, so figures added to
// an earlier run's folder go on after its last one.
type FigureDir struct {
	Dir string

	mu sync.Mutex
	n  int
}

// SaveFigure writes the image to the next figure file. It never replaces a
// file: a name already taken is skipped.
func (d *FigureDir) SaveFigure(im Image) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return "", fmt.Errorf("save figure: %w", err)
	}
	for {
		name := fmt.Sprintf("figure-%d%s", d.n+1, Ext(im.MIME))
		f, err := os.OpenFile(filepath.Join(d.Dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			d.n++
			continue
		}
		if err != nil {
			return "", fmt.Errorf("save figure: %w", err)
		}
		_, err = f.Write(im.Data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("save figure: %w", err)
		}
		d.n++
		return name, nil
	}
}
