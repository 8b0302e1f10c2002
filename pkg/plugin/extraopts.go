package plugin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/jessevdk/go-flags"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/ini"
)

// extraOptsFlag is monitoring-plugins' option for reading options from an
// ini file: --extra-opts [SECTION][@FILE]. It is taken out of the command
// line before go-flags sees it, as the peer's np_extra_opts does, and the
// options of the section are put in front of the command line, so that
// the command line wins for options given once.
const extraOptsFlag = "--extra-opts"

// iniNames and iniPaths are where the peer looks for its ini file when
// --extra-opts names none (lib/parse_ini.c): $MP_CONFIG_FILE, then each
// directory of $NAGIOS_CONFIG_PATH for these names, then the fixed list.
var (
	iniNames = []string{"monitoring-plugins.ini", "plugins.ini", "nagios-plugins.ini"}
	iniPaths = []string{
		"/usr/local/etc/monitoring-plugins/monitoring-plugins.ini",
		"/usr/local/etc/monitoring-plugins.ini",
		"/etc/monitoring-plugins/monitoring-plugins.ini",
		"/etc/monitoring-plugins.ini",
		"/etc/nagios/plugins.ini",
		"/usr/local/nagios/etc/plugins.ini",
		"/usr/local/etc/nagios/plugins.ini",
		"/etc/nagios-plugins/plugins.ini",
		"/etc/opt/nagios/plugins.ini",
		"/etc/nagios-plugins.ini",
		"/usr/local/etc/nagios-plugins.ini",
		"/etc/opt/nagios-plugins.ini",
	}
)

// splitExtraOpts takes every --extra-opts out of args: "--extra-opts=LOC",
// "--extra-opts LOC" (when LOC does not start with "-") and a bare
// "--extra-opts" (LOC empty: the default section and file). Arguments
// after "--" are positional and left alone.
func splitExtraOpts(args []string) (rest, locators []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(rest, args[i:]...), locators
		case strings.HasPrefix(a, extraOptsFlag+"="):
			locators = append(locators, strings.TrimPrefix(a, extraOptsFlag+"="))
		case a == extraOptsFlag:
			loc := ""
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				loc = args[i+1]
				i++
			}
			locators = append(locators, loc)
		default:
			rest = append(rest, a)
		}
	}
	return rest, locators
}

// locate splits [SECTION][@FILE]; an empty section is the plugin's name,
// an empty file is the default one (found by the caller).
func locate(loc, plugin string) (section, file string) {
	section, file, _ = strings.Cut(loc, "@")
	if section == "" {
		section = plugin
	}
	return section, file
}

// defaultIniFile finds the ini file the peer would read. A candidate is
// looked at through src, so one on a dead mount cannot hang the run: it
// is an error naming it rather than a reason to try the next.
func defaultIniFile(ctx context.Context, src *files.Source, getenv func(string) string) (string, error) {
	if f := getenv("MP_CONFIG_FILE"); f != "" {
		return f, nil
	}
	var candidates []string
	for _, dir := range strings.Split(getenv("NAGIOS_CONFIG_PATH"), ":") {
		if dir == "" {
			continue
		}
		for _, name := range iniNames {
			candidates = append(candidates, filepath.Join(dir, name))
		}
	}
	for _, path := range append(candidates, iniPaths...) {
		_, err := src.Stat(ctx, path)
		if err == nil {
			return path, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", errors.New("no ini file: none in $NAGIOS_CONFIG_PATH nor in the standard places (/etc/nagios/plugins.ini and others); give one as [SECTION]@FILE or in $MP_CONFIG_FILE")
}

// extraOpts reads the sections the locators name and returns their
// options as command-line arguments, in order, and for each "FILE:LINE"
// it came from. Values of secret options are registered with san before
// anything could print them. Every error names the file, and the line
// where there is one.
func extraOpts(ctx context.Context, src *files.Source, p Plugin, locators []string, san *Sanitizer) (out, origins []string, err error) {
	for _, loc := range locators {
		section, file := locate(loc, p.Name)
		if file == "" {
			var err error
			if file, err = defaultIniFile(ctx, src, os.Getenv); err != nil {
				return nil, nil, fmt.Errorf("extra-opts: %w", err)
			}
		}
		if file == "-" {
			return nil, nil, errors.New("extra-opts: reading options from standard input is not supported; give a file")
		}
		args, lines, err := sectionArgs(ctx, src, p, section, file, san)
		if err != nil {
			return nil, nil, fmt.Errorf("extra-opts: %w", err)
		}
		out = append(out, args...)
		for _, n := range lines {
			origins = append(origins, fmt.Sprintf("%s:%d", file, n))
		}
	}
	return out, origins, nil
}

// sectionArgs reads one section of one file: the arguments, and the line
// each came from.
func sectionArgs(ctx context.Context, src *files.Source, p Plugin, section, file string, san *Sanitizer) (args []string, lines []int, err error) {
	data, err := src.Read(ctx, files.Config, file)
	if err != nil {
		return nil, nil, err // a *files.Error names the path
	}
	entries, found, err := ini.Section(data, section)
	var ierr *ini.Error
	if errors.As(err, &ierr) {
		return nil, nil, fmt.Errorf("%s:%d: %s", file, ierr.Line, ierr.Problem)
	}
	if !found {
		return nil, nil, fmt.Errorf("%s: no section [%s]", file, section)
	}
	parser, _, _ := NewParser(p)
	for _, e := range entries {
		arg, err := entryArg(parser, e, san)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", file, e.Line, err)
		}
		args = append(args, arg)
		lines = append(lines, e.Line)
	}
	// Each option alone through a fresh parser: a bad value is then
	// reported at its line, not as if typed on the command line.
	if err := parseAlone(p, args); err != nil {
		for i, a := range args {
			if err := parseAlone(p, []string{a}); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %s", file, entries[i].Line, flagMessage(err))
			}
		}
	}
	return args, lines, nil
}

// blame finds the ini line behind msg, a check's complaint about the
// options once parsed ("-a must be USER:PASSWORD"): the one argument
// from the ini file without which the options pass, else without which
// the complaint changes; msg prefixed with its "FILE:LINE: ", or as it
// is when no line is to blame (the command line's value won, say).
func blame(p Plugin, extra, origins, cmdline []string, msg string) string {
	changed := -1
	for i := range extra {
		without := append(append(append([]string{}, extra[:i]...), extra[i+1:]...), cmdline...)
		parsed, problem := validate(p, without)
		switch {
		case !parsed:
			continue // say a required option gone: no evidence either way
		case problem == "":
			return origins[i] + ": " + msg
		case problem != msg && changed < 0:
			changed = i
		}
	}
	if changed >= 0 {
		return origins[changed] + ": " + msg
	}
	return msg
}

// validate parses args with a fresh parser and runs the check's own
// checks of them, as Run does; parsed is false when go-flags refused them.
func validate(p Plugin, args []string) (parsed bool, problem string) {
	parser, check, _ := NewParser(p)
	rest, err := parser.ParseArgs(args)
	if err != nil {
		return false, ""
	}
	if len(rest) > 0 {
		if taker, ok := check.(ArgsTaker); ok {
			if err := taker.TakeArgs(rest); err != nil {
				return true, err.Error()
			}
		}
	}
	if v, ok := check.(Validator); ok {
		if err := v.Validate(); err != nil {
			return true, err.Error()
		}
	}
	return true, ""
}

// entryArg turns "key = value" into one argument: "--key=value", or
// "-kvalue" for a one-letter key, or the bare flag for a boolean.
func entryArg(parser *flags.Parser, e ini.Entry, san *Sanitizer) (string, error) {
	var o *flags.Option
	name := "--" + e.Key
	if len([]rune(e.Key)) == 1 {
		o = parser.FindOptionByShortName([]rune(e.Key)[0])
		name = "-" + e.Key
	} else {
		o = parser.FindOptionByLongName(e.Key)
	}
	if e.Key == strings.TrimPrefix(extraOptsFlag, "--") {
		return "", errors.New("extra-opts cannot be given in an ini file")
	}
	if o == nil {
		return "", fmt.Errorf("unknown option %q", e.Key)
	}
	if isSecret(o) {
		san.RegisterSecret(e.Value)
	}
	if isBoolOption(o) {
		if e.Value != "" {
			return "", fmt.Errorf("option %s takes no value (write %q)", name, e.Key+"=")
		}
		return name, nil
	}
	if o.LongName != "" {
		return "--" + o.LongName + "=" + e.Value, nil
	}
	return "-" + string(o.ShortName) + e.Value, nil
}

// parseAlone parses args with a fresh parser; a missing required option
// is not its concern.
func parseAlone(p Plugin, args []string) error {
	parser, _, _ := NewParser(p)
	_, err := parser.ParseArgs(args)
	var ferr *flags.Error
	if errors.As(err, &ferr) && (ferr.Type == flags.ErrRequired || ferr.Type == flags.ErrHelp) {
		return nil
	}
	return err
}

// isBoolOption is go-flags' own test: a bool, a []bool or a func of no
// argument (the -h, --help it adds) takes no value.
func isBoolOption(o *flags.Option) bool {
	t := o.Field().Type
	if t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t.Kind() == reflect.Bool || (t.Kind() == reflect.Func && t.NumIn() == 0)
}

// secretWords name options whose value is a secret itself (not a file or
// variable holding one): their values are masked wherever printed, also
// when they come from an ini file. A check can mark any other option with
// the struct tag secret:"yes".
var secretWords = []string{"password", "passwd", "authorization", "token", "secret"}

func isSecret(o *flags.Option) bool {
	if o.Field().Tag.Get("secret") == "yes" {
		return true
	}
	name := o.LongName
	if strings.HasSuffix(name, "-file") || strings.HasSuffix(name, "-env") {
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// registerSecrets registers the values of every secret option of parser
// with san, wherever they came from.
func registerSecrets(parser *flags.Parser, san *Sanitizer) {
	var walk func(groups []*flags.Group)
	walk = func(groups []*flags.Group) {
		for _, g := range groups {
			for _, o := range g.Options() {
				var vals []string
				switch v := o.Value().(type) {
				case string:
					vals = []string{v}
				case []string:
					vals = v
				}
				// The value first: isSecret parses the struct tag, at
				// every start, and most options hold nothing.
				if len(vals) == 0 || (len(vals) == 1 && vals[0] == "") || !isSecret(o) {
					continue
				}
				for _, s := range vals {
					san.RegisterSecret(s)
				}
			}
			walk(g.Groups())
		}
	}
	walk(parser.Groups())
}
