package executor

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif"  // register GIF for DecodeConfig
	_ "image/jpeg" // register JPEG for DecodeConfig
	_ "image/png"  // register PNG for DecodeConfig
	"os"
	"path/filepath"
	"sync"

	"github.com/analyst-dev/analyst/jupyter"
)

// imageTypes are the image MIME types saved as figures, with their file
// extensions.
var imageTypes = []struct{ mime, ext string }{
	{"image/png", ".png"},
	{"image/jpeg", ".jpg"},
	{"image/svg+xml", ".svg"},
	{"image/gif", ".gif"},
}

// Image is an image found in an output.
type Image struct {
	MIME string
	Data []byte
}

// Ext is the file extension for the image's type.
func (im Image) Ext() string {
	for _, t := range imageTypes {
		if t.mime == im.MIME {
			return t.ext
		}
	}
	return ".bin"
}

// Describe says what the image is, for the LLM and the console:
// "image/png 640x480".
func (im Image) Describe() string {
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(im.Data)); err == nil {
		return fmt.Sprintf("%s %dx%d", im.MIME, cfg.Width, cfg.Height)
	}
	return im.MIME
}

// ImageOf returns the output's image, if it has one (see jupyter.Output.Image).
func ImageOf(o jupyter.Output) (Image, bool) {
	mime, data, ok := o.Image()
	return Image{MIME: mime, Data: data}, ok
}

// FigureStore keeps the images that cells produce and names them.
type FigureStore interface {
	// SaveFigure stores an image and returns the name it is known by.
	SaveFigure(im Image) (name string, err error)
}

// FigureDir saves figures as figure-N.EXT in a directory, numbering them from
// 1 in the order they arrive. The names come only from the counter, never from
// kernel output.
type FigureDir struct {
	Dir string

	mu sync.Mutex
	n  int
}

// SaveFigure writes the image to the next figure file.
func (d *FigureDir) SaveFigure(im Image) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return "", fmt.Errorf("save figure: %w", err)
	}
	name := fmt.Sprintf("figure-%d%s", d.n+1, im.Ext())
	if err := os.WriteFile(filepath.Join(d.Dir, name), im.Data, 0o644); err != nil {
		return "", fmt.Errorf("save figure: %w", err)
	}
	d.n++
	return name, nil
}
