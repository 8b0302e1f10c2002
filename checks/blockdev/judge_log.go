package blockdev

import "strings"

// logKind is what a kernel log line says about a device.
type logKind int

const (
	logNone        logKind = iota
	logIOError             // the block layer or a driver failed a request
	logXFSShutdown         // XFS shut the filesystem down
	logFSError             // a filesystem reported an error (EXT4-fs error, XFS metadata error)
)

// classifyLog returns the device (node name: sda, sda1, loop0, dm-0) a
// kernel log line is about and what it says, for the lines that matter:
//
//	I/O error, dev loop0, sector 128 op 0x0:(READ) flags 0x1000 ...
//	blk_update_request: I/O error, dev sdb, sector 2048 ...
//	Buffer I/O error on dev sdb1, logical block 0, async page read
//	critical medium error, dev sda, sector 1234 ...
//	sd 2:0:0:0: [sdb] tag#3 FAILED Result: hostbyte=DID_BAD_TARGET ...
//	loop0: writeback error on inode 134, offset 0, sector 88
//	XFS (loop0): Filesystem has been shut down due to log error (0x2).
//	XFS (loop0): metadata I/O error in "xfs_imap_to_bp+0x5c/0xe0" ...
//	EXT4-fs error (device loop1): ext4_lookup:1789: inode #2: ...
func classifyLog(msg string) (string, logKind) {
	if dev, ok := after(msg, "error, dev "); ok {
		return dev, logIOError
	}
	if dev, ok := after(msg, "error on dev "); ok {
		return dev, logIOError
	}
	if rest, ok := strings.CutPrefix(msg, "XFS ("); ok {
		dev, text, _ := strings.Cut(rest, "):")
		low := strings.ToLower(text)
		switch {
		case strings.Contains(low, "shutting down filesystem"), strings.Contains(low, "has been shut down"),
			strings.Contains(low, "shutdown received"):
			return dev, logXFSShutdown
		case strings.Contains(low, "error"):
			return dev, logFSError
		}
		return "", logNone
	}
	if rest, ok := strings.CutPrefix(msg, "EXT4-fs error (device "); ok {
		dev, _, _ := strings.Cut(rest, ")")
		return dev, logFSError
	}
	if strings.HasPrefix(msg, "sd ") && (strings.Contains(msg, "FAILED") || strings.Contains(msg, "error")) {
		if i := strings.Index(msg, "["); i >= 0 {
			if j := strings.Index(msg[i:], "]"); j > 0 {
				return msg[i+1 : i+j], logIOError
			}
		}
	}
	if dev, _, ok := strings.Cut(msg, ": writeback error"); ok && !strings.Contains(dev, " ") {
		return dev, logIOError
	}
	return "", logNone
}

// after returns the token after marker, up to a comma or space.
func after(msg, marker string) (string, bool) {
	i := strings.Index(msg, marker)
	if i < 0 {
		return "", false
	}
	rest := msg[i+len(marker):]
	if j := strings.IndexAny(rest, ", "); j >= 0 {
		rest = rest[:j]
	}
	return rest, rest != ""
}
