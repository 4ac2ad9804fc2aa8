package db

import (
	"os"
	"syscall"
)

// syncData flushes f's data and what reading it back needs (its size), not
// its times: SQLite's own choice on Linux, and one journal commit fewer
// than fsync for a -wal file that is rewritten in place.
func syncData(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
