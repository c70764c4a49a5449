package jupyter

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

const (
	// uploadChunk is how many bytes of the file go in one cell (1.4 MB of
	// base64, well below the servers' 10 MiB WebSocket message limit).
	uploadChunk = 1 << 20
	// uploadCleanupWait bounds removing a partial upload after a failure.
	uploadCleanupWait = 10 * time.Second
)

// Upload copies the local file localPath into the kernel's working
// directory as remoteName. The bytes travel through the kernel itself (Kernel
// Gateway has no contents API) in base64 chunks run as silent cells, which
// leave the execution count and history alone. They are written to a
// temporary name, checked against the local file's SHA-256 in the kernel,
// and only then renamed to remoteName.
//
// A file of that name with the same SHA-256 is left as it is, without
// sending anything: the data a local gateway already sees, or a re-run's.
// A different file of that name is never replaced: Upload fails with a
// *FileExistsError (remove the file first, on purpose, to replace it).
//
// remoteName must be a plain file name: no path separators, not "." or "..".
func (s *Session) Upload(ctx context.Context, localPath, remoteName string) error {
	if err := checkRemoteName(remoteName); err != nil {
		return err
	}
	op := fmt.Sprintf("upload %s", remoteName)
	sum, err := fileSHA256(localPath)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	have, err := s.remoteSHA256(ctx, remoteName)
	switch {
	case err == nil && have == sum:
		return nil
	case err == nil && have != "":
		return &FileExistsError{Name: remoteName}
	}
	f, err := os.Open(localPath)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer f.Close()

	tmp := "." + remoteName + ".upload-" + newID()[:8]
	if err := s.uploadCell(ctx, fmt.Sprintf("open(%s, 'wb').close()", pyString(tmp))); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := s.uploadChunks(ctx, f, tmp); err != nil {
		s.removeRemote(ctx, tmp)
		return fmt.Errorf("%s: %w", op, err)
	}
	finish := fmt.Sprintf(`def _analyst_upload_finish(tmp, name, want):
    import hashlib, os
    h = hashlib.sha256()
    with open(tmp, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    if h.hexdigest() != want:
        os.remove(tmp)
        raise ValueError('sha256 mismatch: got ' + h.hexdigest() + ', want ' + want)
    if os.path.exists(name):
        os.remove(tmp)
        raise FileExistsError(name)
    os.replace(tmp, name)
try:
    _analyst_upload_finish(%s, %s, %s)
finally:
    del _analyst_upload_finish`, pyString(tmp), pyString(remoteName), pyString(sum))
	if err := s.uploadCell(ctx, finish); err != nil {
		s.removeRemote(ctx, tmp)
		return fmt.Errorf("%s: verify: %w", op, err)
	}
	return nil
}

// FileExistsError says that the kernel's working directory already holds
// a different file of the name an upload was to have.
type FileExistsError struct {
	Name string
}

func (e *FileExistsError) Error() string {
	return fmt.Sprintf("the kernel's working directory already has a different %s", e.Name)
}

// Remove deletes the file name from the kernel's working directory, if it
// is there.
func (s *Session) Remove(ctx context.Context, name string) error {
	if err := checkRemoteName(name); err != nil {
		return err
	}
	return s.uploadCell(ctx, fmt.Sprintf("__import__('os').remove(%s) if __import__('os').path.isfile(%s) else None", pyString(name), pyString(name)))
}

// remoteSHA256 is the SHA-256 of the kernel's file name, "" when there is
// no such file.
func (s *Session) remoteSHA256(ctx context.Context, name string) (string, error) {
	code := fmt.Sprintf(`def _analyst_sha256(name):
    import hashlib, os
    if not os.path.isfile(name):
        return ''
    h = hashlib.sha256()
    with open(name, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()
try:
    print(_analyst_sha256(%s), end='')
finally:
    del _analyst_sha256`, pyString(name))
	res, err := s.execute(ctx, code, true)
	switch {
	case err != nil:
		return "", err
	case res.Error != nil:
		return "", res.Error
	}
	return strings.TrimSpace(res.Text()), nil
}

// uploadChunks appends the file to tmp in the kernel, one cell per chunk.
func (s *Session) uploadChunks(ctx context.Context, f io.Reader, tmp string) error {
	buf := make([]byte, uploadChunk)
	enc := make([]byte, base64.StdEncoding.EncodedLen(uploadChunk))
	var code strings.Builder
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			base64.StdEncoding.Encode(enc, buf[:n])
			code.Reset()
			code.WriteString("with open(")
			code.WriteString(pyString(tmp))
			code.WriteString(", 'ab') as _analyst_f:\n    _analyst_f.write(__import__('base64').b64decode('")
			code.Write(enc[:base64.StdEncoding.EncodedLen(n)])
			code.WriteString("'))\ndel _analyst_f")
			if cerr := s.uploadCell(ctx, code.String()); cerr != nil {
				return cerr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// uploadCell runs one silent cell and turns any failure into an error.
func (s *Session) uploadCell(ctx context.Context, code string) error {
	res, err := s.execute(ctx, code, true)
	switch {
	case err != nil:
		return err
	case res.TimedOut:
		return errors.New("cell timed out")
	case res.Error != nil:
		return fmt.Errorf("in the kernel: %w", res.Error)
	case res.Status != "ok":
		return fmt.Errorf("in the kernel: cell status %q", res.Status)
	}
	return nil
}

// removeRemote removes a partial upload, even after ctx was cancelled.
func (s *Session) removeRemote(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), uploadCleanupWait)
	defer cancel()
	code := fmt.Sprintf("__import__('os').remove(%s) if __import__('os').path.exists(%s) else None", pyString(name), pyString(name))
	_, _ = s.execute(ctx, code, true)
}

// checkRemoteName accepts plain file names only.
func checkRemoteName(name string) error {
	switch {
	case name == "":
		return errors.New("upload: remote name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("upload: remote name %q is not a file name", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("upload: remote name %q must be a plain file name without a directory", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("upload: remote name %q contains a NUL byte", name)
	}
	return nil
}

// fileSHA256 returns the hex SHA-256 of a regular file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pyString returns s as a Python string literal. A JSON string is one.
func pyString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
