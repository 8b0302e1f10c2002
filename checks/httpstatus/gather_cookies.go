package httpstatus

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/hindsight-plugins/hindsight/pkg/cookies"
	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// loadJar reads --cookie-jar through the runtime's file source (bounded,
// regular files only, isolated on a mount that can hang); nil without
// the option. A file that does not exist yet is an empty jar, as curl
// takes it: the first run creates it. A file that is not a cookie file
// (/etc/passwd given by mistake) is an error, and is never written: curl
// would overwrite it. Cookie values are credentials: each long enough to
// be one is registered as a secret.
func (o *Options) loadJar(ctx context.Context, env *plugin.Env) (*cookies.Jar, error) {
	if o.Jar == "" {
		return nil, nil
	}
	data, err := readFile(ctx, env, "--cookie-jar", files.Cookies, o.Jar)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	jar, err := cookies.Parse(data, env.Now)
	if err != nil {
		return nil, fmt.Errorf("--cookie-jar %s: %w, not overwritten: give a cookie file or a new path", o.Jar, err)
	}
	registerCookies(env, jar)
	return jar, nil
}

// minCookieSecret is the shortest cookie value masked in the output: a
// session identifier is long; "true", "en_US" or a counter are not
// secrets, and masking them everywhere would mangle the output.
const minCookieSecret = 8

func registerCookies(env *plugin.Env, jar *cookies.Jar) {
	for _, v := range jar.Values() {
		if len(v) >= minCookieSecret {
			env.RegisterSecret(v)
		}
	}
}

// saveJar writes the jar back, atomically and bounded; what went wrong,
// in words, for judge to report ("" when written or without a jar).
// Only a regular file (or nothing) at the path is replaced: a symlink is
// refused, never replaced by a file nor written through, since where it
// points may not be a jar at all.
func (o *Options) saveJar(ctx context.Context, env *plugin.Env, jar *cookies.Jar) string {
	if jar == nil {
		return ""
	}
	registerCookies(env, jar) // those the servers set, which -vv would show
	done := env.Begin("writing --cookie-jar " + o.Jar)
	defer done()
	if err := env.Files().Replace(ctx, files.Cookies, o.Jar, jar.Marshal()); err != nil {
		return "--cookie-jar not written: " + err.Error()
	}
	return ""
}

// judgeJar adds a jar that could not be written: UNKNOWN, so that what
// the answers say still outranks it, but never hidden behind an OK
// first line.
func judgeJar(res *plugin.Result, problem string) {
	if problem == "" {
		return
	}
	if plugin.Worse(plugin.UNKNOWN, res.State()) {
		res.Summary = ""
	}
	res.Add(plugin.UNKNOWN, problem)
}
