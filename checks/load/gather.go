package load

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/isolate"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// observations are what gather read, all judge needs: no judge reads the
// host or the clock.
type observations struct {
	Load    [3]float64
	CPUs    CPUs // counted only when the load is judged per CPU
	PSI     psi
	PSIWhy  string  // why some or all of PSI is missing, "" when complete
	PSIBad  []error // pressure files that are there but unusable: UNKNOWN
	Top     top     // -n, gathered only when the load is not OK
	OOM     oomReport
	Verbose int // -v: how much the reader asked to see
}

// top is the -n listing, or why there is none.
type top struct {
	List []consumer
	Err  error
}

// kernel reads the --procfs and --sysfs trees through the runtime's file
// source: bounded, regular files only, and in the prober for what is on
// a FUSE or network mount (lxcfs mounts /proc/loadavg over in LXC).
type kernel struct {
	ctx  context.Context
	src  *files.Source
	proc *files.Dir
	sys  *files.Dir
}

func newKernel(ctx context.Context, env *plugin.Env, o *Options) kernel {
	src := env.Files()
	return kernel{ctx: ctx, src: src, proc: src.Dir(ctx, o.Procfs), sys: src.Dir(ctx, o.Sysfs)}
}

// readSys reads a file under sysfs by its full path: cgroup hierarchies
// are found by their mount points, relocated under --sysfs, but one
// mounted outside /sys is read where it is.
func (k kernel) readSys(path string) ([]byte, error) {
	if rel, err := filepath.Rel(k.sys.Root, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return k.sys.ReadFile(rel)
	}
	return k.src.ReadKernel(k.ctx, path)
}

// gather reads the load, the CPU count when the load is judged per CPU,
// and the pressure stall information.
func gather(ctx context.Context, env *plugin.Env, o *Options) (observations, error) {
	obs := observations{Verbose: env.Verbose}
	k := newKernel(ctx, env, o)
	done := env.Begin("reading " + k.proc.Path("loadavg"))
	err := wantDir(k.proc, "--procfs")
	if err == nil {
		obs.Load, err = readLoadavg(k)
	}
	done()
	if err != nil {
		return obs, err
	}
	if _, _, perCPU := o.thresholds(); perCPU {
		if err := wantDir(k.sys, "--sysfs"); err != nil {
			return obs, err
		}
		done := env.Begin("counting CPUs in " + k.sys.Path("devices/system/cpu"))
		obs.CPUs, err = countCPUs(k)
		done()
		if err != nil {
			return obs, fmt.Errorf("count CPUs for -r: %w", err)
		}
	}
	done = env.Begin("reading " + k.proc.Path("pressure"))
	obs.PSI, obs.PSIWhy, obs.PSIBad = readPSI(k)
	done()
	done = env.Begin("reading " + k.proc.Path("vmstat"))
	oom, next := gatherOOM(ctx, env, o, k)
	done()
	obs.OOM = oom
	if next != nil {
		env.SaveState(next)
	}
	return obs, nil
}

// wantDir checks that a root is a directory, so that a root that is
// something else is named as given (the file source names the paths it
// reads with the root's symlinks resolved).
func wantDir(d *files.Dir, flag string) error {
	info, err := d.Stat(".")
	switch {
	case err != nil:
		return fmt.Errorf("%s %w", flag, err)
	case !info.IsDir():
		return fmt.Errorf("%s %s: not a directory", flag, d.Root)
	}
	return nil
}

// gatherTop lists the -n top CPU consumers.
func gatherTop(ctx context.Context, env *plugin.Env, o *Options) top {
	list, err := topConsumers(ctx, env, newKernel(ctx, env, o), o.ProcsToShow, time.Duration(o.SampleInterval))
	return top{List: list, Err: err}
}

// readPSI reads every resource; a kernel without PSI (before 4.20, no
// CONFIG_PSI, or booted psi=0) gives an explanation instead. Files that
// are there but unusable (malformed, not a regular file, too large, on a
// mount that does not answer) come back as bad, to be reported UNKNOWN.
func readPSI(k kernel) (out psi, why string, bad []error) {
	out = psi{}
	var missing []string
	for _, res := range psiResources {
		st, err := readPressure(k, filepath.Join("pressure", res))
		if err != nil {
			switch {
			case errors.Is(err, errMalformed) || errors.Is(err, files.ErrNotRegular) ||
				errors.Is(err, files.ErrTooLarge) || errors.Is(err, isolate.ErrTimeout):
				bad = append(bad, err)
			case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EOPNOTSUPP):
				missing = append(missing, res)
			default:
				missing = append(missing, res+" ("+err.Error()+")")
			}
			continue
		}
		out[res] = st
	}
	if len(missing) == len(psiResources) && len(out) == 0 {
		return out, "pressure stall information not available on this kernel (no /proc/pressure: needs Linux 4.20+ with CONFIG_PSI, not booted psi=0)", bad
	}
	if len(missing) > 0 {
		return out, "pressure stall information missing for " + strings.Join(missing, ", "), bad
	}
	return out, "", bad
}
