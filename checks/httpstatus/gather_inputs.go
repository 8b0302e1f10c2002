package httpstatus

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/hindsight-plugins/hindsight/pkg/files"
	"github.com/hindsight-plugins/hindsight/pkg/httpprobe"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// inputs are what the options' files and the environment hold: read
// through the runtime's file source (bounded, regular files only, in the
// prober on mounts that can hang), every secret registered so the
// runtime masks it wherever it would be printed.
type inputs struct {
	auth string // USER:PASSWORD for basic authentication, "" for none
	body []byte // the request body, nil for none
	tls  httpprobe.TLSOptions
}

// readInputs reads --auth-file (or -a, or the environment), --data-file
// (or -P), --ca-file, -J and -K.
func readInputs(ctx context.Context, env *plugin.Env, o *Options) (inputs, error) {
	var in inputs
	var err error
	if in.auth, err = o.authorization(ctx, env); err != nil {
		return in, err
	}
	for _, kv := range o.Headers {
		if name, value, _ := strings.Cut(kv, ":"); sensitiveHeader(name) {
			registerCredential(env, strings.TrimSpace(value))
		}
	}
	switch {
	case o.DataFile != "":
		if in.body, err = readFile(ctx, env, "--data-file", files.Body, o.DataFile); err != nil {
			return in, err
		}
	case o.Post != "":
		in.body = []byte(o.Post)
	}
	in.tls, err = o.tlsOptions(ctx, env)
	return in, err
}

// readFile reads an option's file; the message names the option and the
// path.
func readFile(ctx context.Context, env *plugin.Env, flag string, lim files.Limit, path string) ([]byte, error) {
	done := env.Begin("reading " + flag + " " + path)
	defer done()
	data, err := env.Files().Read(ctx, lim, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return data, nil
}

// authorization returns the basic credentials: -a, else --auth-file,
// else the environment; "" for none. The password is registered in
// every form it could be printed in.
func (o *Options) authorization(ctx context.Context, env *plugin.Env) (string, error) {
	var auth string
	switch {
	case o.Auth != "":
		auth = o.Auth
	case o.AuthFile != "":
		data, err := readFile(ctx, env, "--auth-file", files.Secret, o.AuthFile)
		if err != nil {
			return "", err
		}
		line := files.SecretLine(data)
		if !strings.Contains(line, ":") {
			registerCredential(env, line)
			return "", fmt.Errorf("--auth-file %s: first line must be USER:PASSWORD", o.AuthFile)
		}
		auth = line
	default:
		v := os.Getenv(AuthEnv)
		if v == "" {
			return "", nil
		}
		if !strings.Contains(v, ":") {
			registerCredential(env, v)
			return "", fmt.Errorf("$%s must be USER:PASSWORD", AuthEnv)
		}
		auth = v
	}
	_, pass, _ := strings.Cut(auth, ":")
	registerCredential(env, pass)
	registerCredential(env, auth)
	env.RegisterSecret(base64.StdEncoding.EncodeToString([]byte(auth)))
	return auth, nil
}

// registerCredential registers a password or token, and its value
// without a scheme word ("Bearer TOKEN" -> "TOKEN").
func registerCredential(env *plugin.Env, s string) {
	env.RegisterSecret(s)
	if _, rest, ok := strings.Cut(strings.TrimSpace(s), " "); ok {
		env.RegisterSecret(strings.TrimSpace(rest))
	}
}

// tlsOptions reads --ca-file and the client certificate and key.
func (o *Options) tlsOptions(ctx context.Context, env *plugin.Env) (httpprobe.TLSOptions, error) {
	v, _ := httpprobe.ParseTLSVersion(o.TLSMin)
	sni := o.SNI
	if sni == "*" {
		sni = ""
	}
	t := httpprobe.TLSOptions{Insecure: o.Insecure, SNI: sni, NoSNI: o.NoSNI, MinVersion: v}
	if o.CAFile != "" {
		bundle, err := readFile(ctx, env, "--ca-file", files.Certificate, o.CAFile)
		if err != nil {
			return t, err
		}
		if t.RootCAs, err = httpprobe.ParseRootCAs(bundle); err != nil {
			return t, fmt.Errorf("--ca-file %s: %w", o.CAFile, err)
		}
	}
	if o.ClientCert != "" {
		pair, err := o.clientPair(ctx, env)
		if err != nil {
			return t, err
		}
		t.ClientCert = &pair
	}
	return t, nil
}

// clientPair reads -J and -K (the key may be in -J's file, as curl
// allows) and registers the key's PEM blocks as secrets.
func (o *Options) clientPair(ctx context.Context, env *plugin.Env) (tls.Certificate, error) {
	certPEM, err := readFile(ctx, env, "--client-cert", files.Certificate, o.ClientCert)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, keyPath := certPEM, o.ClientCert
	if o.ClientKey != "" {
		keyPath = o.ClientKey
		if keyPEM, err = readFile(ctx, env, "--client-key", files.Secret, o.ClientKey); err != nil {
			return tls.Certificate{}, err
		}
	}
	registerKeys(env, keyPEM)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--client-cert %s / --client-key %s: %w", o.ClientCert, keyPath, err)
	}
	return pair, nil
}

// registerKeys registers every private key block of a PEM text.
func registerKeys(env *plugin.Env, data []byte) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			env.RegisterSecret(string(bytes.TrimSpace(pem.EncodeToMemory(b))))
			env.RegisterSecret(base64.StdEncoding.EncodeToString(b.Bytes))
		}
	}
}
