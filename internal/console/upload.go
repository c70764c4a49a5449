package console

import (
	"fmt"
	"time"

	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/termsafe"
	"github.com/analyst-dev/analyst/jupyter"
)

// uploadRedraw is how often an upload's progress is drawn again at most.
const uploadRedraw = 200 * time.Millisecond

// Upload shows an upload's progress as the phase (see Phase), on a
// terminal: the bytes the kernel has of the file, the share, and the rate;
// at the end the size, the time and the rate, until the phase changes. It
// is meant to be analysis.Options.OnUpload. The transcript is not changed.
func (c *Console) Upload(p jupyter.UploadProgress) {
	c.mu.Lock()
	now := c.now()
	if p.Done < p.Total && !c.uploadDrawn.IsZero() && now.Sub(c.uploadDrawn) < uploadRedraw {
		c.mu.Unlock()
		return
	}
	c.uploadDrawn = now
	c.mu.Unlock()
	c.Phase(uploadLabel(p))
}

// uploadLabel words an upload's progress.
func uploadLabel(p jupyter.UploadProgress) string {
	name := termsafe.Line(p.Name)
	rate := human.Bytes(int64(p.Rate())) + "/s"
	if p.Done >= p.Total {
		return fmt.Sprintf("uploaded %s: %s in %s, %s", name, human.Bytes(p.Total), human.Duration(p.Elapsed), rate)
	}
	return fmt.Sprintf("uploading %s: %s of %s (%d%%), %s", name, human.Bytes(p.Done), human.Bytes(p.Total), p.Done*100/p.Total, rate)
}
