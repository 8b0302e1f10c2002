// Package block reads the health of Linux block devices from sysfs: state
// of SCSI and virtio devices, size, read-only flag, I/O counters and the
// in-flight requests of a hung device, md RAID arrays and device-mapper
// devices. It knows Linux, not Nagios: judging is the check's job.
package block

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/isolate"
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

	Removable bool // removable=1: a card reader or CD drive, size 0 when empty
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

// Tree is a sysfs tree read file by file, paths relative to its root
// (files.Dir is one: bounded reads, regular files only, isolated when the
// tree is on a mount that can hang).
type Tree interface {
	ReadFile(rel string) ([]byte, error)
	ReadDir(rel string) ([]isolate.Entry, error)
	Readlink(rel string) (string, error)
}

// Reader reads devices below a sysfs root.
type Reader struct {
	sys Tree
}

// NewReader returns a Reader for the sysfs tree sys.
func NewReader(sys Tree) *Reader { return &Reader{sys: sys} }

// Names lists the devices in SYSFS/block.
func (r *Reader) Names() ([]string, error) {
	names, err := r.list("block")
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// Brief reads what identifies a device: its number, size, read-only
// flag and partitions. Enough to map mounts to devices; cheap for the
// devices that are not checked.
func (r *Reader) Brief(name string) Device {
	base := path.Join("block", name)
	entries := r.names(base)
	d := Device{Name: name, Kind: r.kindOf(base, name, entries)}
	d.Dev = r.readString(path.Join(base, "dev"))
	d.Sectors, _ = r.readUint(path.Join(base, "size"), 10)
	ro, _ := r.readUint(path.Join(base, "ro"), 10)
	d.RO = ro == 1
	rm, _ := r.readUint(path.Join(base, "removable"), 10)
	d.Removable = rm == 1
	d.Partitions = r.partitions(base, name, entries)
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
	base := path.Join("block", name)
	c, err := r.Counters(name)
	if err != nil {
		return d, err
	}
	d.Counters = c
	d.Slaves = r.names(path.Join(base, "slaves"))
	switch d.Kind {
	case "scsi":
		d.SCSIState = r.readString(path.Join(base, "device", "state"))
		// As node_exporter: iodone_cnt and ioerr_cnt, in hex; both or none.
		_, okDone := r.readHex(path.Join(base, "device", "iodone_cnt"))
		d.IOErrors, d.HasIOErr = r.readHex(path.Join(base, "device", "ioerr_cnt"))
		d.HasIOErr = d.HasIOErr && okDone
	case "virtio":
		d.VirtioStatus, d.HasVirtio = r.readUint(path.Join(base, "device", "status"), 0)
	case "dm":
		d.DMName = r.readString(path.Join(base, "dm", "name"))
		s, _ := r.readUint(path.Join(base, "dm", "suspended"), 10)
		d.DMSuspended = s == 1
	case "loop":
		d.LoopBacking = r.readString(path.Join(base, "loop", "backing_file"))
	}
	return d, nil
}

func (r *Reader) kindOf(base, name string, entries []string) string {
	switch {
	case strings.HasPrefix(name, "loop"):
		return "loop"
	case strings.HasPrefix(name, "zram"):
		return "zram"
	case strings.HasPrefix(name, "ram"):
		return "ram"
	case strings.HasPrefix(name, "md"):
		return "md"
	case contains(entries, "dm"):
		return "dm"
	case strings.HasPrefix(name, "nvme"):
		return "nvme"
	}
	if !contains(entries, "device") {
		return "other"
	}
	dev := r.names(path.Join(base, "device"))
	if contains(dev, "state") || contains(dev, "scsi_level") {
		return "scsi"
	}
	// The device link points into .../virtioN/block/NAME on virtio disks.
	if target, err := r.sys.Readlink(path.Join(base, "device")); err == nil && strings.Contains(path.Base(target), "virtio") {
		return "virtio"
	}
	if s := r.readString(path.Join(base, "device", "modalias")); strings.HasPrefix(s, "virtio:") {
		return "virtio"
	}
	return "other"
}

func (r *Reader) partitions(base, name string, entries []string) []Partition {
	var out []Partition
	for _, e := range entries {
		p := path.Join(base, e)
		if !strings.HasPrefix(e, name) || e == name {
			continue
		}
		if _, err := r.sys.ReadFile(path.Join(p, "partition")); err != nil {
			continue
		}
		ro, _ := r.readUint(path.Join(p, "ro"), 10)
		out = append(out, Partition{Name: e, Dev: r.readString(path.Join(p, "dev")), RO: ro == 1})
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

// list returns the names in the directory rel of the tree.
func (r *Reader) list(rel string) ([]string, error) {
	entries, err := r.sys.ReadDir(rel)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, path.Base(e.Path))
	}
	return out, nil
}

// names is list for optional directories: none when it cannot be read.
func (r *Reader) names(rel string) []string {
	out, _ := r.list(rel)
	return out
}

// readString reads an optional one-line file: "" when it cannot be read.
func (r *Reader) readString(rel string) string {
	b, err := r.sys.ReadFile(rel)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// readUint reads a number; base 0 accepts virtio's "0x0000000f".
func (r *Reader) readUint(rel string, base int) (uint64, bool) {
	s := r.readString(rel)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 64)
	return n, err == nil
}

// readHex reads a counter the SCSI layer prints as "0x1d".
func (r *Reader) readHex(rel string) (uint64, bool) {
	s := strings.TrimPrefix(r.readString(rel), "0x")
	n, err := strconv.ParseUint(s, 16, 64)
	return n, err == nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
