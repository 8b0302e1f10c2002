package certexpiry

import (
	"errors"
	"fmt"

	"github.com/hindsight-plugins/hindsight/pkg/netproxy"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
	"github.com/hindsight-plugins/hindsight/pkg/tlsprobe"
)

// netOptions are the options of what goes over the network besides the
// handshake itself. The hidden ones are check_ssl_cert's names, so that
// its command lines carry over.
type netOptions struct {
	NoRevocation         bool             `long:"no-revocation" description:"Do not check endpoints' chains for revocation (OCSP, CRL)"`
	CheckRevocation      bool             `long:"check-revocation" description:"Check files' certificates for revocation too (fetches OCSP/CRL)"`
	RevocationErrorState plugin.StateFlag `long:"revocation-error-state" value-name:"STATE" description:"State when revocation cannot be checked (default WARNING)" unquote:"false"`
	MinTLSVersion        givenString      `long:"min-tls-version" value-name:"VERSION" description:"CRITICAL when an endpoint accepts a TLS version below 1.1, 1.2 or 1.3" unquote:"false"`
	Proxy                string           `long:"proxy" value-name:"URL" description:"HTTP proxy (CONNECT) for endpoints and revocation (default: https_proxy, http_proxy)" unquote:"false"`
	NoProxy              bool             `long:"no-proxy" description:"Ignore the proxy environment variables"`
	ClientCert           string           `long:"client-cert" value-name:"FILE" description:"Client certificate (PEM) for servers that require one" unquote:"false"`
	ClientKey            string           `long:"client-key" value-name:"FILE" description:"Its private key (PEM; default: in --client-cert)" unquote:"false"`

	IgnoreOCSP       bool   `long:"ignore-ocsp" hidden:"true"`
	IgnoreOCSPErrors bool   `long:"ignore-ocsp-errors" hidden:"true"`
	RequireNoTLS1    bool   `long:"require-no-tls1" hidden:"true"`
	RequireNoTLS11   bool   `long:"require-no-tls1_1" hidden:"true"`
	ClientCertSSL    string `long:"clientcert" hidden:"true" unquote:"false"`
	ClientKeySSL     string `long:"clientkey" hidden:"true" unquote:"false"`
}

// validateNet folds check_ssl_cert's names into ours and checks the
// combinations.
func (c *Options) validateNet() error {
	n := &c.netOptions
	if n.IgnoreOCSP {
		n.NoRevocation = true
	}
	if n.IgnoreOCSPErrors && !n.RevocationErrorState.Set {
		n.RevocationErrorState = plugin.StateFlag{State: plugin.OK, Set: true}
	}
	switch {
	case n.RequireNoTLS11 && !n.MinTLSVersion.Set:
		n.MinTLSVersion = givenString{V: "1.2", Set: true}
	case n.RequireNoTLS1 && !n.MinTLSVersion.Set:
		n.MinTLSVersion = givenString{V: "1.1", Set: true}
	}
	if n.ClientCert == "" {
		n.ClientCert = n.ClientCertSSL
	}
	if n.ClientKey == "" {
		n.ClientKey = n.ClientKeySSL
	}
	switch {
	case n.NoRevocation && n.CheckRevocation:
		return errors.New("--no-revocation and --check-revocation exclude each other")
	case n.ClientKey != "" && n.ClientCert == "":
		return errors.New("--client-key needs --client-cert")
	case n.Proxy != "" && n.NoProxy:
		return errors.New("--proxy and --no-proxy exclude each other")
	}
	if n.Proxy != "" {
		if _, err := netproxy.Parse(n.Proxy); err != nil {
			return fmt.Errorf("invalid --proxy: %w", err)
		}
	}
	if v := n.MinTLSVersion.V; n.MinTLSVersion.Set && (tlsprobe.Versions[v] == 0 || v == "1.0") {
		return fmt.Errorf("invalid --min-tls-version %q: 1.1, 1.2 or 1.3", v)
	}
	return nil
}
