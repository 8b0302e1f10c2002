package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/state"
)

// StateSpec says where a check keeps what one run leaves for the next.
type StateSpec struct {
	Path    string // the state file; "" or /dev/null keeps no state this run
	Kind    string // what writes it: a file of another kind is no history
	Version int    // format version: a file of another version is no history
	// Lost says what cross-run detection is off when the file cannot be
	// used: "durations in D across runs".
	Lost string
	// Option is the option that names the file, for the hint on a file
	// that is not ours; "--state-file" when empty.
	Option string
}

// Stateful is implemented by checks that keep state between runs. The
// runtime loads the state before Run (Env.PrevState) and saves what Run
// left (Env.SaveState) after it: bounded, atomic, and a state file that
// cannot be read or written is a finding of its own, never silence.
type Stateful interface {
	StateSpec() StateSpec
}

// stateSlot is the state of one run: what was loaded and what to save.
type stateSlot struct {
	spec    StateSpec
	data    []byte // the previous run's file, nil for none
	problem string // why the file cannot be used, for the finding
	notes   []string
	next    any
	hasNext bool
}

// PrevState decodes the previous run's state into v and reports whether
// there was one of the check's kind and version.
func (e *Env) PrevState(v any) bool {
	s := &e.state
	if s.data == nil {
		return false
	}
	found, why := state.Decode(s.data, s.spec.Path, s.spec.Kind, s.spec.Version, v)
	if !found && e.Verbose > 0 {
		s.notes = append(s.notes, why)
	}
	return found
}

// SaveState sets what is saved for the next run once the check returns.
// A check that does not call it leaves the file as it is.
func (e *Env) SaveState(v any) {
	e.state.next, e.state.hasNext = v, true
}

// loadState reads the state file through the file source: bounded,
// regular files only, isolated on a mount that can hang.
func (e *Env) loadState(ctx context.Context, spec StateSpec) {
	if spec.Path == os.DevNull { // the Unix way to say "keep nothing"
		spec.Path = ""
	}
	e.state = stateSlot{spec: spec}
	if spec.Path == "" {
		return
	}
	data, err := e.Files().Read(ctx, files.State, spec.Path)
	switch {
	case err == nil && !state.Ours(data):
		// Someone's file given by mistake (/etc/passwd, a note in /tmp):
		// never taken for history, never replaced.
		opt := spec.Option
		if opt == "" {
			opt = "--state-file"
		}
		e.state.problem = "state file " + spec.Path + ": " + state.ErrForeign.Error() + "; not overwritten: remove it or choose another " + opt
	case err == nil:
		e.state.data = data
	case errors.Is(err, fs.ErrNotExist):
		if e.Verbose > 0 {
			e.state.notes = append(e.state.notes, "no state file yet at "+spec.Path)
		}
	default:
		e.state.problem = "state file " + err.Error()
	}
}

// saveState writes what the check left, and adds to res what went wrong
// with the state file: UNKNOWN, so that real problems still outrank it.
func (e *Env) saveState(ctx context.Context, res *Result) {
	s := &e.state
	if s.spec.Path == "" {
		return
	}
	lost := s.spec.Lost
	if lost == "" {
		lost = "detection across runs"
	}
	if s.problem != "" {
		res.addOwn(UNKNOWN, lost+" is off: "+s.problem)
		return // never overwrite a file we could not read: it may not be ours
	}
	res.Notes = append(res.Notes, s.notes...)
	if !s.hasNext {
		return
	}
	data, err := state.Encode(s.spec.Kind, s.spec.Version, s.next)
	if err == nil && int64(len(data)) > files.State.Max {
		err = errors.New("state over the " + files.State.String() + " limit")
	}
	var dir string
	if err == nil {
		// Resolve the directory, not the file: a symlink at the file's
		// name is replaced by the new file, never written through.
		dirPart, name := splitLast(s.spec.Path)
		dir, err = e.Files().Local(ctx, dirPart)
		if err == nil {
			err = state.Write(dir+"/"+name, data)
		}
	}
	if err != nil {
		res.addOwn(UNKNOWN, lost+" is off: state file "+s.spec.Path+" not written: "+err.Error())
	}
}

// splitLast cuts path at its last slash, without cleaning it as
// filepath.Dir does ("a/link/../f" is not "a/f" when link is a symlink).
func splitLast(path string) (dir, name string) {
	i := strings.LastIndexByte(path, '/')
	switch {
	case i < 0:
		return ".", path
	case i == 0:
		return "/", path[1:]
	}
	return path[:i], path[i+1:]
}

// StateFile is the value of a check's --state-file option. It records
// that the option was given, so that an explicitly empty path, which
// would otherwise read as "not given" and quietly mean the default, can
// be refused.
type StateFile struct {
	Path string
	Set  bool
}

// UnmarshalFlag implements flags.Unmarshaler.
func (f *StateFile) UnmarshalFlag(s string) error {
	*f = StateFile{Path: s, Set: true}
	return nil
}

// MarshalFlag implements flags.Marshaler.
func (f StateFile) MarshalFlag() (string, error) { return f.Path, nil }

// Check reports an option given with an empty path; the check names its
// option and the way to keep no state in the message.
func (f StateFile) Check() error {
	if f.Set && f.Path == "" {
		return errors.New("empty path")
	}
	return nil
}

// StatePath is a check's StateSpec.Path: the path given, "" with none
// (no state this run), or else the per-user default for name. Key parts
// name the default: a check whose runs with different options must not
// share one history passes the option values that tell them apart, and
// gets name-HASH; with no key parts the file is plain name.
func StatePath(f StateFile, none bool, name string, key ...string) string {
	switch {
	case none:
		return ""
	case f.Path != "":
		return f.Path
	case len(key) == 0:
		return state.DefaultPath(name)
	}
	sum := sha256.Sum256([]byte(strings.Join(key, "\x00")))
	return state.DefaultPath(name + "-" + hex.EncodeToString(sum[:4]))
}

// KeepsState reports whether runs are compared: not with none (the
// check's --no-state-file) nor with the path /dev/null.
func KeepsState(f StateFile, none bool) bool { return !none && f.Path != os.DevNull }
