// Package block reads the health of Linux block devices from sysfs: state
// of SCSI and virtio devices, size, read-only flag, I/O counters and the
// in-flight requests of a hung device, md RAID arrays and device-mapper
// devices. It knows Linux, not Nagios: judging is the check's job.
package block

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/procfs/blockdevice"
)

// Virtio device status bits (virtio spec 1.1, 2.1).
const (
	VirtioNeedsReset = 0x40
	VirtioFailed     = 0x80
)

// Device is one block device (a whole disk, not a partition).
type Device struct {
	Name       string // sda, vda, loop0, md0, dm-0
	Dev        string // "8:0"
	Kind       string // scsi, virtio, nvme, loop, md, dm, ram, zram, other
	Sectors    uint64 // size in 512-byte sectors
	RO         bool
	Partitions []Partition
	Slaves     []string // devices under a dm or md device

	Counters Counters

	SCSIState string // device/state of a SCSI disk: running, offline, blocked ...
	IOErrors  uint64 // device/ioerr_cnt of a SCSI disk
	HasIOErr  bool

	VirtioStatus uint64 // device/status of a virtio disk
	HasVirtio    bool

	DMName      string // dm/name
	DMSuspended bool   // dm/suspended

	LoopBacking string // loop/backing_file
}

// Partition is a partition of a Device.
type Partition struct {
	Name string
	Dev  string
	RO   bool
}

// Virtual reports whether the device is memory- or file-backed (loop,
// ram, zram): not storage hardware, so not checked unless asked for.
func (d Device) Virtual() bool {
	return d.Kind == "loop" || d.Kind == "ram" || d.Kind == "zram"
}

// Reader reads devices below a sysfs root.
type Reader struct {
	sys string
	bd  blockdevice.FS
}

// NewReader returns a Reader for the given procfs and sysfs roots. Both
// must be set: procfs' constructors read the host when given "".
func NewReader(procRoot, sysRoot string) (*Reader, error) {
	if procRoot == "" || sysRoot == "" {
		return nil, errors.New("block: procfs and sysfs roots must be set")
	}
	bd, err := blockdevice.NewFS(procRoot, sysRoot)
	if err != nil {
		return nil, fmt.Errorf("sysfs at %s: %w", sysRoot, err)
	}
	return &Reader{sys: sysRoot, bd: bd}, nil
}

// Names lists the devices in SYSFS/block.
func (r *Reader) Names() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(r.sys, "block"))
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out, nil
}

// Exists reports whether SYSFS/block/NAME exists.
func (r *Reader) Exists(name string) bool {
	_, err := os.Stat(filepath.Join(r.sys, "block", name))
	return err == nil
}

// Brief reads what identifies a device: its number, size, read-only
// flag and partitions. Enough to map mounts to devices; cheap for the
// devices that are not checked.
func (r *Reader) Brief(name string) Device {
	base := filepath.Join(r.sys, "block", name)
	d := Device{Name: name, Kind: kindOf(base, name)}
	d.Dev = readString(filepath.Join(base, "dev"))
	d.Sectors, _ = readUint(filepath.Join(base, "size"), 10)
	ro, _ := readUint(filepath.Join(base, "ro"), 10)
	d.RO = ro == 1
	d.Partitions = partitions(base, name)
	return d
}

// Read reads one device. Only a missing or unreadable stat file is an
// error; optional files absent on this kind of device are left empty.
func (r *Reader) Read(name string) (Device, error) {
	return r.Detail(r.Brief(name))
}

// Detail adds the counters and the health files of d's kind to a Device
// from Brief.
func (r *Reader) Detail(d Device) (Device, error) {
	name := d.Name
	base := filepath.Join(r.sys, "block", name)
	c, err := r.Counters(name)
	if err != nil {
		return d, err
	}
	d.Counters = c
	d.Slaves = listDir(filepath.Join(base, "slaves"))
	switch d.Kind {
	case "scsi":
		d.SCSIState = readString(filepath.Join(base, "device", "state"))
		if st, err := r.bd.SysBlockDeviceIOStat(name); err == nil {
			d.IOErrors, d.HasIOErr = st.IOErrCount, true
		}
	case "virtio":
		d.VirtioStatus, d.HasVirtio = readUint(filepath.Join(base, "device", "status"), 0)
	case "dm":
		d.DMName = readString(filepath.Join(base, "dm", "name"))
		s, _ := readUint(filepath.Join(base, "dm", "suspended"), 10)
		d.DMSuspended = s == 1
	case "loop":
		d.LoopBacking = readString(filepath.Join(base, "loop", "backing_file"))
	}
	return d, nil
}

func kindOf(base, name string) string {
	switch {
	case strings.HasPrefix(name, "loop"):
		return "loop"
	case strings.HasPrefix(name, "zram"):
		return "zram"
	case strings.HasPrefix(name, "ram"):
		return "ram"
	case strings.HasPrefix(name, "md"):
		return "md"
	case exists(filepath.Join(base, "dm")):
		return "dm"
	case strings.HasPrefix(name, "nvme"):
		return "nvme"
	case exists(filepath.Join(base, "device", "state")) || exists(filepath.Join(base, "device", "scsi_level")):
		return "scsi"
	}
	// The device link points into .../virtioN/block/NAME on virtio disks.
	if target, err := os.Readlink(filepath.Join(base, "device")); err == nil && strings.Contains(filepath.Base(target), "virtio") {
		return "virtio"
	}
	if s := readString(filepath.Join(base, "device", "modalias")); strings.HasPrefix(s, "virtio:") {
		return "virtio"
	}
	return "other"
}

func partitions(base, name string) []Partition {
	var out []Partition
	for _, e := range listDir(base) {
		p := filepath.Join(base, e)
		if !strings.HasPrefix(e, name) || !exists(filepath.Join(p, "partition")) {
			continue
		}
		ro, _ := readUint(filepath.Join(p, "ro"), 10)
		out = append(out, Partition{Name: e, Dev: readString(filepath.Join(p, "dev")), RO: ro == 1})
	}
	return out
}

// ByDev maps "MAJOR:MINOR" of every device and partition to the device
// (whole disk) and the name of the exact node (the partition, if any).
func ByDev(devs []Device) map[string]Node {
	m := map[string]Node{}
	for _, d := range devs {
		m[d.Dev] = Node{Disk: d.Name, Name: d.Name, RO: d.RO}
		for _, p := range d.Partitions {
			m[p.Dev] = Node{Disk: d.Name, Name: p.Name, RO: p.RO || d.RO}
		}
	}
	return m
}

// Node is a device or partition found by number.
type Node struct {
	Disk string // the whole device: sda
	Name string // the node: sda1
	RO   bool
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func listDir(p string) []string {
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func readString(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// readUint reads a number; base 0 accepts virtio's "0x0000000f".
func readUint(p string, base int) (uint64, bool) {
	s := readString(p)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 64)
	return n, err == nil
}
