package plugin

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jessevdk/go-flags"
)

// Help layout. go-flags sizes its option column by the longest option,
// so one long choice list (check_cert_expiry's -P) squeezed every
// description into a few characters; help is rendered here instead, from
// go-flags' own option metadata, the same for every plugin whatever the
// terminal (help is mostly read through a pipe or in a ticket).
const (
	helpWidth = 80
	// optionColumn is where descriptions start; an option longer than
	// fits before it gets its description on the next line.
	optionColumn = 30
	// commandIndent indents the continuation lines of a wrapped example
	// command, after the " \" that continues it in a shell.
	commandIndent = 4
)

// renderHelp is the whole --help text of p.
func renderHelp(p Plugin, parser *flags.Parser) string {
	var b strings.Builder
	b.WriteString(wrapText(p.Name+" (hindsight) "+Version()+" - "+p.Summary, "", "  ", helpWidth))
	b.WriteString("\nUsage:\n")
	b.WriteString(wrapUsage("  "+p.Name+" "+p.Usage, "      ", helpWidth))
	var groups func([]*flags.Group)
	groups = func(gs []*flags.Group) {
		for _, g := range gs {
			if text := helpGroup(g); text != "" {
				b.WriteString("\n" + g.ShortDescription + ":\n" + text)
			}
			groups(g.Groups())
		}
	}
	groups(parser.Groups())
	if p.Help != "" {
		b.WriteString("\n")
		for _, line := range strings.Split(strings.TrimRight(p.Help, "\n"), "\n") {
			b.WriteString(wrapHelpLine(line))
		}
	}
	b.WriteString("\n")
	b.WriteString(wrapText("Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for --help, --version and bad options).", "", "", helpWidth))
	return b.String()
}

// helpGroup renders the visible options of one group.
func helpGroup(g *flags.Group) string {
	var b strings.Builder
	for _, o := range g.Options() {
		if o.Hidden {
			continue
		}
		spec := "  " + optionSpec(o)
		desc := optionDescription(o)
		pad := strings.Repeat(" ", optionColumn)
		if utf8.RuneCountInString(spec)+2 > optionColumn {
			b.WriteString(spec + "\n")
			b.WriteString(wrapText(desc, pad, pad, helpWidth))
			continue
		}
		first := spec + strings.Repeat(" ", optionColumn-utf8.RuneCountInString(spec))
		b.WriteString(wrapText(desc, first, pad, helpWidth))
	}
	return b.String()
}

// optionSpec is "-w, --warning=RANGE", "    --sni=NAME" or "-v, --verbose".
func optionSpec(o *flags.Option) string {
	var s string
	switch {
	case o.ShortName != 0 && o.LongName != "":
		s = "-" + string(o.ShortName) + ", --" + o.LongName
	case o.ShortName != 0:
		s = "-" + string(o.ShortName)
	default:
		s = "    --" + o.LongName
	}
	if isBoolOption(o) {
		return s
	}
	name := o.ValueName
	if name == "" {
		name = "VALUE"
	}
	sep := "="
	if o.LongName == "" {
		sep = " "
	}
	if o.OptionalArgument {
		return s + "[" + sep + name + "]"
	}
	return s + sep + name
}

// optionDescription is the description with what go-flags would show
// beside the option: the choices (as words, not in the option column),
// the default unless the text speaks of one, and the environment variable.
func optionDescription(o *flags.Option) string {
	desc := strings.TrimSpace(o.Description)
	if len(o.Choices) > 0 && !mentionsAll(desc, o.Choices) {
		desc += " (one of: " + strings.Join(o.Choices, ", ") + ")"
	}
	def := strings.Join(o.Default, ", ")
	if o.DefaultMask != "" {
		def = o.DefaultMask // "-" hides it, as in go-flags
	}
	if def != "" && def != "-" && !isBoolOption(o) && !strings.Contains(strings.ToLower(desc), "default") {
		desc += " (default: " + def + ")"
	}
	if o.EnvDefaultKey != "" {
		desc += " [$" + o.EnvDefaultKey + "]"
	}
	return desc
}

// mentionsAll reports whether desc names every choice already.
func mentionsAll(desc string, choices []string) bool {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(desc, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' }) {
		words[w] = true
	}
	for _, c := range choices {
		if !words[c] {
			return false
		}
	}
	return true
}

// wrapText fills text into lines of at most width columns: the first
// starts with first, the others with rest. A word longer than a line is
// cut.
func wrapText(text, first, rest string, width int) string {
	var b strings.Builder
	line := first
	empty := true // nothing but the prefix on the line yet
	flush := func() {
		b.WriteString(strings.TrimRight(line, " ") + "\n")
		line, empty = rest, true
	}
	for _, word := range strings.Fields(text) {
		for {
			room := width - utf8.RuneCountInString(line)
			if !empty {
				room-- // the space before the word
			}
			n := utf8.RuneCountInString(word)
			if n <= room {
				if !empty {
					line += " "
				}
				line += word
				empty = false
				break
			}
			if !empty {
				flush()
				continue
			}
			// Longer than a whole line: cut it.
			cut := runePrefix(word, max(room, 1))
			line += cut
			word = word[len(cut):]
			flush()
		}
	}
	if !empty || b.Len() == 0 {
		flush()
	}
	return b.String()
}

func runePrefix(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// wrapUsage wraps a usage line between bracketed groups, never inside
// one ("[-H HOST[:PORT]]..." stays whole).
func wrapUsage(text, rest string, width int) string {
	var tokens []string
	depth, start := 0, 0
	for i, r := range text {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case ' ':
			if depth == 0 {
				if i > start {
					tokens = append(tokens, text[start:i])
				}
				start = i + 1
			}
		}
	}
	tokens = append(tokens, text[start:])
	indent := text[:len(text)-len(strings.TrimLeft(text, " "))]
	tokens[0] = indent + tokens[0]
	var b strings.Builder
	line := tokens[0]
	for _, tok := range tokens[1:] {
		if utf8.RuneCountInString(line)+1+utf8.RuneCountInString(tok) > width {
			b.WriteString(line + "\n")
			line = rest + tok
			continue
		}
		line += " " + tok
	}
	b.WriteString(line + "\n")
	return b.String()
}

// wrapHelpLine wraps one line of a plugin's help text. An indented
// command (an example) is continued with " \" as a shell reads it; other
// text is filled, keeping its indent.
func wrapHelpLine(line string) string {
	if utf8.RuneCountInString(line) <= helpWidth {
		return line + "\n"
	}
	indent := line[:len(line)-len(strings.TrimLeft(line, " "))]
	body := strings.TrimLeft(line, " ")
	if indent == "" || !strings.HasPrefix(body, "check_") {
		return wrapText(body, indent, indent, helpWidth)
	}
	cont := indent + strings.Repeat(" ", commandIndent)
	var b strings.Builder
	cur := indent
	for i, word := range strings.Fields(body) {
		if i > 0 && utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(word)+len(" \\") > helpWidth {
			b.WriteString(cur + " \\\n")
			cur = cont + word
			continue
		}
		if i > 0 {
			cur += " "
		}
		cur += word
	}
	// A single word past the width (a long path) is left whole: cutting
	// it would break the command.
	b.WriteString(cur + "\n")
	return b.String()
}
