//go:build !linux

package fusetest

// lazyUnmount: other systems have no lazy unmount; a plain one is tried.
// This file exists so that the tests of the plugins built for FreeBSD
// (check_cert_expiry, check_http_status) compile there: `GOOS=freebsd go vet`.
const lazyUnmount = 0
