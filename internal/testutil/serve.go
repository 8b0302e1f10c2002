package testutil

import (
	"net"
	"testing"
)

// Serve listens on addr ("127.0.0.1:0" for any free port) and serves each
// connection with handle in a goroutine of its own, closing it after; the
// listener closes when the test ends. It returns the address listened on.
// For servers that answer what net/http's or crypto/tls' would not.
func Serve(t testing.TB, addr string, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}
