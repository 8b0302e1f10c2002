package plugin

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"github.com/jessevdk/go-flags"
)

// InstallDir is where packages and `make install` put the binaries: a
// directory of their own beside Debian's plugins, so that hindsight's
// check_load and monitoring-plugins' check_load can be installed together.
const InstallDir = "/usr/lib/nagios/plugins/hindsight"

// GenerateModes are the outputs of the hidden --generate option.
var GenerateModes = []string{"man", "nagios", "nrpe", "icinga2"}

// generateMode reports whether args ask for a generated description
// instead of a check: "--generate=MODE" or "--generate MODE" as the only
// arguments. It is a string comparison, so normal runs pay nothing; it is
// not a go-flags option because a check with required options would fail
// to parse before the generator could run.
func generateMode(args []string) (string, bool) {
	switch {
	case len(args) == 1 && strings.HasPrefix(args[0], "--generate="):
		return strings.TrimPrefix(args[0], "--generate="), true
	case len(args) == 2 && args[0] == "--generate":
		return args[1], true
	}
	return "", false
}

func (r Runner) generate(p Plugin, mode string) int {
	if err := Generate(r.Stdout, p, mode); err != nil {
		io.WriteString(r.Stdout, RenderLine(p.Service, UNKNOWN, err.Error()))
		return int(UNKNOWN)
	}
	return int(OK)
}

// Generate writes p's man page or its Nagios, NRPE or Icinga 2
// definitions, all derived from the same go-flags options the binary
// parses, so that the shipped files cannot drift from the binary.
func Generate(w io.Writer, p Plugin, mode string) error {
	if name := unquotedOption(p); name != "" {
		return fmt.Errorf("option %s lacks unquote:\"false\": go-flags would strip quotes from its value", name)
	}
	switch mode {
	case "man":
		return writeMan(w, p)
	case "nagios":
		return writeNagios(w, p)
	case "nrpe":
		return writeNRPE(w, p)
	case "icinga2":
		return writeIcinga(w, p)
	}
	return fmt.Errorf("invalid --generate %q: expected one of %s", mode, strings.Join(GenerateModes, ", "))
}

// unquotedOption names an option of p that takes a value and lacks the
// struct tag unquote:"false", or "". Without it go-flags strips quotes
// from a value that starts with one, so `-s '"status":"UP"'` was refused
// and `-s '"UP"'` searched for UP. Checked here, where `make generate`
// and the tests that regenerate every plugin's files see it, rather than
// at every start: reading the tags costs each run.
func unquotedOption(p Plugin) string {
	parser, _, _ := NewParser(p)
	var walk func(groups []*flags.Group) string
	walk = func(groups []*flags.Group) string {
		for _, g := range groups {
			for _, o := range g.Options() {
				if !isBoolOption(o) && o.Field().Tag.Get("unquote") != "false" {
					return o.String()
				}
			}
			if name := walk(g.Groups()); name != "" {
				return name
			}
		}
		return ""
	}
	return walk(parser.Groups())
}

// genOption is one option as the definitions need it.
type genOption struct {
	Short     rune
	Long      string
	ValueName string
	Desc      string
	Default   []string
	Switch    bool // takes no value (bool, or a counter such as -v)
	List      bool // may be repeated
}

func (o genOption) flag() string {
	if o.Long != "" {
		return "--" + o.Long
	}
	return "-" + string(o.Short)
}

func (o genOption) name() string {
	if o.Long != "" {
		return strings.ReplaceAll(o.Long, "-", "_")
	}
	return string(o.Short)
}

// skipped options make no sense in a monitoring definition.
var skipped = map[string]bool{"help": true, "version": true}

// options lists p's visible options, the check's own first.
func options(p Plugin) []genOption {
	parser, _, _ := NewParser(p)
	var out []genOption
	var walk func(g *flags.Group)
	walk = func(g *flags.Group) {
		for _, o := range g.Options() {
			if o.Hidden || skipped[o.LongName] {
				continue
			}
			t := o.Field().Type
			out = append(out, genOption{
				Short:     o.ShortName,
				Long:      o.LongName,
				ValueName: o.ValueName,
				Desc:      o.Description,
				Default:   o.Default,
				Switch:    t.Kind() == reflect.Bool || (t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Bool),
				List:      t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Bool,
			})
		}
		for _, sub := range g.Groups() {
			walk(sub)
		}
	}
	for _, g := range parser.Groups() {
		walk(g)
	}
	return out
}

// hostOption is the option that names the host to check, if any: the
// definitions fill it from the host's address, as the ITL does.
func hostOption(opts []genOption) (genOption, bool) {
	for _, o := range opts {
		switch o.Long {
		case "hostname", "host", "address":
			return o, true
		}
	}
	return genOption{}, false
}

func findShort(opts []genOption, short rune) bool {
	for _, o := range opts {
		if o.Short == short && !o.Switch {
			return true
		}
	}
	return false
}

// example is one line of the "Examples:" block of Plugin.Help.
type example struct {
	Args    string // after the plugin name
	Comment string
}

// examples reads the "Examples:" block of p.Help: indented lines that
// start with the plugin's name, with an optional comment after a run of
// two or more spaces.
func examples(p Plugin) []example {
	var out []example
	in := false
	lines := strings.Split(p.Help, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if strings.HasPrefix(trimmed, "Examples") && strings.HasSuffix(trimmed, ":") {
			in = true
			continue
		}
		if !in || (trimmed != p.Name && !strings.HasPrefix(trimmed, p.Name+" ")) {
			continue
		}
		// A long example continues on the next lines after a backslash.
		for strings.HasSuffix(trimmed, "\\") && i+1 < len(lines) {
			i++
			trimmed = strings.TrimSpace(strings.TrimSuffix(trimmed, "\\")) + " " + strings.TrimSpace(lines[i])
		}
		cmd, comment := trimmed, ""
		if i := strings.Index(trimmed, "   "); i > 0 {
			cmd, comment = trimmed[:i], strings.TrimSpace(trimmed[i:])
		} else if i := strings.Index(trimmed, "  "); i > 0 {
			cmd, comment = trimmed[:i], strings.TrimSpace(trimmed[i:])
		}
		out = append(out, example{Args: strings.TrimSpace(strings.TrimPrefix(cmd, p.Name)), Comment: comment})
	}
	return out
}

// optionTable is the options as comment lines, aligned like --help.
func optionTable(opts []genOption, prefix string) string {
	var b strings.Builder
	rows := make([][2]string, len(opts))
	width := 0
	for i, o := range opts {
		var left string
		switch {
		case o.Short != 0 && o.Long != "":
			left = "-" + string(o.Short) + ", --" + o.Long
		case o.Long != "":
			left = "    --" + o.Long
		default:
			left = "-" + string(o.Short)
		}
		if !o.Switch && o.ValueName != "" {
			left += " " + o.ValueName
		}
		right := o.Desc
		if len(o.Default) > 0 {
			right += " (default " + strings.Join(o.Default, ",") + ")"
		}
		rows[i] = [2]string{left, right}
		width = max(width, len(left))
	}
	width = min(width, 40)
	for _, r := range rows {
		fmt.Fprintf(&b, "%s  %-*s  %s\n", prefix, width, r[0], r[1])
	}
	return b.String()
}

func shortName(p Plugin) string { return strings.TrimPrefix(p.Name, "check_") }

// CommandName is the one name of p's command in every engine: the Nagios
// command, the NRPE command, the Icinga 2 CheckCommand and the README all
// say hindsight_load for check_load. "hindsight_" keeps it apart from the
// ITL's and monitoring-plugins' load, disk, procs; dropping "check_" is
// the ITL's own habit, so Icinga users find what they expect.
func CommandName(p Plugin) string { return "hindsight_" + shortName(p) }

// manWidth is the widest line of plain text kept as is in the man page:
// man indents a section's text by 7 columns, so lines of 72 fit the 80
// columns of MANWIDTH=80 (and of a terminal).
const manWidth = 72

// writeMan is go-flags' man page plus -h/--help, the notes and examples
// of --help and the exit codes.
func writeMan(w io.Writer, p Plugin) error {
	parser, _, _ := NewParser(p)
	parser.LongDescription = strings.ToUpper(p.Summary[:1]) + p.Summary[1:] + "."
	var b strings.Builder
	parser.WriteManPage(&b)
	// go-flags adds -h/--help only when it parses: the page lists it too.
	b.WriteString(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nShow the help and exit (UNKNOWN)\n")
	if p.Help != "" {
		b.WriteString(".SH NOTES\n")
		writeManNotes(&b, p.Help)
	}
	b.WriteString(".SH EXIT STATUS\n0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for \\-\\-help, \\-\\-version and bad options).\n")
	b.WriteString(".SH FILES\n" + manLine(InstallDir+"/"+p.Name) + "\n.br\n")
	b.WriteString("Nagios, NRPE and Icinga 2 definitions: /usr/share/doc/hindsight/\n")
	b.WriteString(".SH SEE ALSO\n\\fBnrpe\\fP(8), \\fBicinga2\\fP(8), https://nagios\\-plugins.org/doc/guidelines.html\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeManNotes renders the --help notes: prose (lines at the margin) as
// filled paragraphs, so man fits it to any width; indented lines
// (examples, tables) without filling, wrapped at manWidth.
func writeManNotes(b *strings.Builder, help string) {
	fill := true
	b.WriteString(".PP\n")
	for _, line := range strings.Split(strings.TrimRight(help, "\n"), "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			if !fill {
				b.WriteString(".fi\n")
				fill = true
			}
			b.WriteString(".PP\n")
			continue
		case line[0] == ' ' || line[0] == '\t':
			if fill {
				b.WriteString(".nf\n")
				fill = false
			}
			for _, l := range wrapIndented(line, manWidth) {
				b.WriteString(manLine(l) + "\n")
			}
			continue
		}
		if !fill {
			b.WriteString(".fi\n")
			fill = true
		}
		b.WriteString(manLine(line) + "\n")
	}
	if !fill {
		b.WriteString(".fi\n")
	}
}

// wrapIndented breaks an indented line longer than width at spaces; the
// continuation lines are indented 4 more. A line of commands ends each
// broken piece with a shell continuation so that it still copies and
// runs as one.
func wrapIndented(line string, width int) []string {
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
	cont := ""
	var out []string
	if strings.HasPrefix(strings.TrimSpace(line), "check_") {
		cont = " \\"
		// An example's comment goes on a line of its own before it.
		if i := strings.Index(line[len(indent):], "  "); len(line) > width && i > 0 {
			out = append(out, indent+"# "+strings.TrimSpace(line[len(indent)+i:]))
			line = line[:len(indent)+i]
		}
	}
	for len(line) > width {
		cut := strings.LastIndex(line[:width-len(cont)], " ")
		if cut <= len(indent) {
			break // one word longer than the line: leave it
		}
		out = append(out, strings.TrimRight(line[:cut], " ")+cont)
		line = indent + "    " + strings.TrimLeft(line[cut:], " ")
	}
	return append(out, line)
}

// manLine escapes a line of plain text for groff.
func manLine(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// nagiosArg escapes text for a Nagios command_line or check_command:
// "$" starts a macro, ";" a comment and "!" separates arguments.
func nagiosArg(s string) (string, bool) {
	if strings.ContainsAny(s, "!$\n") {
		return "", false
	}
	return strings.ReplaceAll(s, ";", `\;`), true
}

func writeNagios(w io.Writer, p Plugin) error {
	opts := options(p)
	name := CommandName(p)
	path := "$USER1$/hindsight/" + p.Name
	var b strings.Builder
	fmt.Fprintf(&b, "# %s - %s\n#\n", p.Name, p.Summary)
	fmt.Fprintf(&b, "# Nagios command definitions, generated from %s's options by\n", p.Name)
	fmt.Fprintf(&b, "# `%s --generate=nagios` (make generate): do not edit.\n", p.Name)
	b.WriteString("# $USER1$ is the plugin directory (resource.cfg; /usr/lib/nagios/plugins on\n")
	b.WriteString("# Debian): hindsight's binaries are in its hindsight/ subdirectory.\n#\n")
	b.WriteString("# Options (give them in the last argument of check_command):\n")
	b.WriteString(optionTable(opts, "#"))
	if ex := examples(p); len(ex) > 0 {
		b.WriteString("#\n# Examples (check_command of a service):\n")
		for _, e := range ex {
			arg, ok := nagiosArg(e.Args)
			if !ok {
				continue
			}
			line := "#   check_command  " + name
			if arg != "" {
				line += "!" + arg
			}
			if e.Comment != "" {
				line += "    ; " + e.Comment
			}
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	b.WriteString("\n# Any options, as one argument: " + name + "!OPTIONS\n")
	nagiosCommand(&b, name, path+" $ARG1$")
	if findShort(opts, 'w') && findShort(opts, 'c') {
		b.WriteString("\n# Warning and critical thresholds, then any other options: " + name + "_thresholds!WARN!CRIT!OPTIONS\n")
		nagiosCommand(&b, name+"_thresholds", path+" -w '$ARG1$' -c '$ARG2$' $ARG3$")
	}
	if h, ok := hostOption(opts); ok {
		b.WriteString("\n# The host's address as " + h.flag() + ", then any other options: " + name + "_host!OPTIONS\n")
		nagiosCommand(&b, name+"_host", path+" "+h.flag()+" '$HOSTADDRESS$' $ARG1$")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func nagiosCommand(b *strings.Builder, name, line string) {
	fmt.Fprintf(b, "define command {\n\tcommand_name\t%s\n\tcommand_line\t%s\n}\n", name, line)
}

func writeNRPE(w io.Writer, p Plugin) error {
	opts := options(p)
	name := CommandName(p)
	path := InstallDir + "/" + p.Name
	var b strings.Builder
	fmt.Fprintf(&b, "# %s - %s\n#\n", p.Name, p.Summary)
	fmt.Fprintf(&b, "# NRPE command lines, generated from %s's options by\n", p.Name)
	fmt.Fprintf(&b, "# `%s --generate=nrpe` (make generate): do not edit.\n#\n", p.Name)
	b.WriteString("# Copy the lines you want into nrpe.cfg (or a file in /etc/nagios/nrpe.d/),\n")
	b.WriteString("# uncomment them and adapt the arguments; the monitoring server asks for one\n")
	b.WriteString("# by its name, e.g.\n")
	b.WriteString("#   check_nrpe -H AGENT -c " + name + "\n")
	b.WriteString("# Debian's NRPE is built without argument passing (check_nrpe -a fails), so\n")
	b.WriteString("# each set of arguments is a command line of its own, with fixed arguments,\n")
	b.WriteString("# named by what it checks. The output is bounded by --max-output (default\n")
	b.WriteString("# 4096 bytes): NRPE passes 64 KiB; behind v2 packets (check_nrpe -2, NRPE\n")
	b.WriteString("# before 3.0) use the _v2 line, which adds --max-output 1023.\n#\n")
	b.WriteString("# Options:\n")
	b.WriteString(optionTable(opts, "#"))
	b.WriteString("\n# Fixed arguments (no dont_blame_nrpe needed):\n")
	lines := nrpeLines(p, opts)
	for _, l := range lines {
		if l.Comment != "" {
			b.WriteString("# " + l.Comment + ":\n")
		}
		args := strings.TrimSpace(" " + l.Args)
		fmt.Fprintf(&b, "#command[%s]=%s\n", l.Name, strings.TrimSpace(path+" "+args))
		fmt.Fprintf(&b, "#command[%s_v2]=%s\n", l.Name, strings.TrimSpace(path+" "+args+" --max-output 1023"))
	}
	b.WriteString("\n# With arguments from check_nrpe -a ($ARG1$, $ARG2$ ... are its arguments).\n")
	b.WriteString("# ONLY for an NRPE built with --enable-command-args and dont_blame_nrpe=1 in\n")
	b.WriteString("# nrpe.cfg (not Debian's build): any client may then pass any option.\n")
	fmt.Fprintf(&b, "#command[%s_args]=%s $ARG1$\n", name, path)
	if findShort(opts, 'w') && findShort(opts, 'c') {
		fmt.Fprintf(&b, "#command[%s_thresholds]=%s -w $ARG1$ -c $ARG2$\n", name, path)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// nrpeLine is one NRPE command of the fixed-arguments kind.
type nrpeLine struct {
	Name, Args, Comment string
}

// nrpeLines names each --help example by what it checks, read off its
// options: the first option that is not a threshold or a common one
// (hindsight_cert_expiry_kubeadm, hindsight_load_percpu), with the next
// ones added while the name is taken. An example with thresholds only is
// the plain hindsight_load; an example without arguments is left out (the
// bare command), and without examples the bare command is the one line.
func nrpeLines(p Plugin, opts []genOption) []nrpeLine {
	base := CommandName(p)
	exs := examples(p)
	taken := map[string]bool{base + "_args": true, base + "_thresholds": true}
	var out []nrpeLine
	for _, e := range exs {
		if e.Args == "" {
			continue // the plugin's defaults: the bare command says it
		}
		words := exampleWords(e.Args, opts)
		name := base
		if len(words) > 0 {
			name += "_" + words[0]
		}
		for i := 1; taken[name] && i < len(words); i++ {
			name += "_" + words[i]
		}
		for n := 2; taken[name]; n++ {
			name = fmt.Sprintf("%s_%d", strings.TrimSuffix(name, fmt.Sprintf("_%d", n-1)), n)
		}
		taken[name] = true
		out = append(out, nrpeLine{Name: name, Args: e.Args, Comment: e.Comment})
	}
	if len(out) == 0 {
		return []nrpeLine{{Name: base}}
	}
	return out
}

// notNaming are options that say how, not what: thresholds, common options.
var notNaming = map[string]bool{"warning": true, "critical": true, "timeout": true, "verbose": true, "max_output": true}

// exampleWords are the names of the options an example uses, in order,
// without repeats, with "_warning"/"_critical" cut (psi_warning and
// psi_critical name one thing: psi).
func exampleWords(args string, opts []genOption) []string {
	var words []string
	seen := map[string]bool{}
	for _, f := range strings.Fields(args) {
		o, ok := lookupOption(f, opts)
		if !ok {
			continue
		}
		w := o.name()
		if notNaming[w] {
			continue
		}
		w = strings.TrimSuffix(strings.TrimSuffix(w, "_warning"), "_critical")
		if w == "" || seen[w] {
			continue
		}
		seen[w] = true
		words = append(words, strings.ToLower(w))
	}
	return words
}

// lookupOption finds the option a command-line word names (-H, --host,
// --host=x); a value or an argument is no option.
func lookupOption(word string, opts []genOption) (genOption, bool) {
	if !strings.HasPrefix(word, "-") || word == "-" {
		return genOption{}, false
	}
	long, _, _ := strings.Cut(strings.TrimPrefix(word, "--"), "=")
	for _, o := range opts {
		if strings.HasPrefix(word, "--") && o.Long == long {
			return o, true
		}
		if !strings.HasPrefix(word, "--") && len(word) == 2 && o.Short == rune(word[1]) {
			return o, true
		}
	}
	return genOption{}, false
}

// icingaString quotes s for the Icinga 2 DSL.
func icingaString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

func writeIcinga(w io.Writer, p Plugin) error {
	opts := options(p)
	prefix := CommandName(p) + "_"
	var b strings.Builder
	fmt.Fprintf(&b, "/* %s - %s\n *\n", p.Name, p.Summary)
	fmt.Fprintf(&b, " * Icinga 2 CheckCommand, generated from %s's options by\n", p.Name)
	fmt.Fprintf(&b, " * `%s --generate=icinga2` (make generate): do not edit.\n", p.Name)
	b.WriteString(" * Packages install it in /usr/share/icinga2/include/plugins-contrib.d/, which\n")
	b.WriteString(" * `include <plugins-contrib>` in icinga2.conf loads. Every option is a custom\n")
	b.WriteString(" * variable " + prefix + "<long option name with _ for ->; unset variables are\n")
	b.WriteString(" * not passed, so the plugin's own defaults apply.\n */\n\n")
	fmt.Fprintf(&b, "object CheckCommand %s {\n", icingaString(CommandName(p)))
	// The host option is not filled with $check_address$ by default: for
	// plugins that also take URLs or files, an implied -H would add a
	// target the user did not ask for. The import provides check_address
	// for services that want it.
	host, hasHost := hostOption(opts)
	if hasHost {
		b.WriteString("\t// To check the host's own address: vars." + prefix + host.name() + " = \"$check_address$\"\n")
		b.WriteString("\timport \"ipv4-or-ipv6\"\n\n")
	}
	fmt.Fprintf(&b, "\tcommand = [ PluginDir + %s ]\n\n", icingaString("/hindsight/"+p.Name))
	b.WriteString("\targuments = {\n")
	for _, o := range opts {
		fmt.Fprintf(&b, "\t\t%s = {\n", icingaString(o.flag()))
		v := icingaString("$" + prefix + o.name() + "$")
		if o.Switch {
			fmt.Fprintf(&b, "\t\t\tset_if = %s\n", v)
		} else {
			fmt.Fprintf(&b, "\t\t\tvalue = %s\n", v)
		}
		if o.List {
			b.WriteString("\t\t\trepeat_key = true\n")
		}
		desc := o.Desc
		if len(o.Default) > 0 {
			desc += " (default " + strings.Join(o.Default, ",") + ")"
		}
		fmt.Fprintf(&b, "\t\t\tdescription = %s\n", icingaString(desc))
		b.WriteString("\t\t}\n")
	}
	if _, ok := p.New().(ArgsTaker); ok {
		fmt.Fprintf(&b, "\t\t\"(arguments)\" = {\n\t\t\tvalue = %s\n\t\t\tskip_key = true\n\t\t\torder = 100\n", icingaString("$"+prefix+"arguments$"))
		fmt.Fprintf(&b, "\t\t\tdescription = %s\n\t\t}\n", icingaString("Arguments after the options (an array): "+p.Name+" "+p.Usage))
	}
	b.WriteString("\t}\n")
	var vars []string
	for _, o := range opts {
		if o.Switch {
			vars = append(vars, fmt.Sprintf("\tvars.%s%s = false\n", prefix, o.name()))
		}
	}
	sort.Strings(vars)
	if len(vars) > 0 {
		b.WriteString("\n" + strings.Join(vars, ""))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
