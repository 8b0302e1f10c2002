package httpstatus

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// BenchmarkRunOneURL is the profile behind cmd/check_http_status/default.pgo
// (make pgo): one run of the plugin, in-process, against a loopback
// server that costs as little as a server can, so the profile is the
// plugin's (option parsing, request, judgement, output).
func BenchmarkRunOneURL(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					req.Body.Close()
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Type: text/html\r\n\r\nhello\n")
				}
			}()
		}
	}()
	args := []string{"-u", "http://" + ln.Addr().String() + "/"}
	for b.Loop() {
		if code := (plugin.Runner{Args: args, Stdout: io.Discard}).Run(Plugin); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
