package record

import "golang.org/x/sys/unix"

// exchange swaps the names of the files a and b in one atomic step
// (renameat2 with RENAME_EXCHANGE). It fails on a file system that cannot.
func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}
