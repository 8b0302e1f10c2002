// Package certexpiry is check_cert_expiry: every certificate that can take
// a site or a cluster down, from TLS endpoints (STARTTLS too), files (PEM,
// DER, PKCS#12, Java keystores, CRLs), directories and kubeconfigs, judged
// on days left, renewal overdue, chain, hostname, purpose, strength,
// signer and policy.
package certexpiry

import (
	"context"

	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// Plugin is check_cert_expiry.
var Plugin = plugin.Plugin{
	Name:    "check_cert_expiry",
	Service: "CERT",
	Summary: "Checks X.509 certificates on TLS endpoints (incl. STARTTLS), in files, directories and kubeconfigs",
	Usage:   "[-H HOST[:PORT]]... [-P PROTO] [-f FILE|GLOB]... [-d DIR]... [--kubeconfig FILE]... [--kubeadm] [-w DAYS] [-c DAYS] [HOST:PORT]...",
	Group:   "Certificate options",
	Help:    help,
	New:     func() plugin.Check { return &Options{} },
}

const help = `Every certificate of every chain or bundle is judged and gets one line in
the long output, worst first, and one perfdata item (days left, labelled by
source and position, e.g. 'example.com:443#1' for the first intermediate).

What it judges, per certificate: days left (-w/-c, fractions allowed),
renewal overdue (--renewal-at), not yet valid, expired, SHA-1/MD5
signatures below the root and RSA keys under 2048 bits (--weak-state); for
endpoints the chain (system roots or --ca-file), the hostname and that the
leaf may serve TLS (its extended key usage allows serverAuth)
(--chain-state, --hostname-state, --ignore-hostname, --insecure); with --ca
or --kubeadm that each leaf is signed by the CA it belongs to. --insecure
skips the chain, hostname and purpose, never the dates: a handshake that
succeeds with an expired certificate is never OK. CRLs are judged on their
next update with the same -w/-c. Policy on leaves (--policy-state):
--require-purpose, --maximum-validity, --issuer, --fingerprint, --serial.

Days left are cut to hundredths, never rounded up, and the same number is
the text, the perfdata and the state: fewer days left than -w/-c is a
problem, as the perfdata ranges 'W:' and 'C:' say.

-v lists the files skipped in directories and globs and why, and the -H
and -f given more than once (each is checked once), -vv each chain, -vvv
every certificate in full.

Revocation of an endpoint's leaf: its stapled OCSP response, else the OCSP
responder its AIA names, else its CRL (http, 10 MiB at most), within -t.
Each intermediate of the chain is asked about too, against its issuer, side
by side; a self-signed root never. Each certificate and CRL is fetched once
per run, however many addresses or chains share it. Revoked is CRITICAL; a
responder that cannot answer is --revocation-error-state (default WARNING).
--no-revocation turns it off; files (their bundles' chains where the issuer
is given) are checked only with --check-revocation; -v shows each answer.
--min-tls-version 1.2 makes a second handshake offering only older
versions.

Proxies: --proxy (HTTP CONNECT, STARTTLS too), else https_proxy for
implicit TLS endpoints and http_proxy/https_proxy for OCSP and CRL fetches,
lowercase first, no_proxy honoured. check_ssl_cert's --ignore-ocsp,
--ignore-ocsp-errors, --require-no-tls1, --require-no-tls1_1, --clientcert
and --clientkey are accepted.

An endpoint that cannot be checked is CRITICAL; an unusable file (not a
certificate, unreadable, a broken symlink) is UNKNOWN. In directories and
globs, files of other kinds (keys, CSRs) are skipped; named with -f they are
an error.

Files are read only when regular and at most 4 MiB (a password file 64
KiB); a directory or glob lists at most --max-entries files. Files on a
network or FUSE mount are read in an isolated child: a hung mount is an
UNKNOWN naming it and the check still ends within -t. Certificates not
read by the deadline are counted in an UNKNOWN, never silently dropped.

Examples:
  check_cert_expiry -H www.example.com
  check_cert_expiry -H www.example.com --renewal-at 0.67 --compare-file /etc/letsencrypt/live/www.example.com/cert.pem
  check_cert_expiry -H lb.example.com --all-addresses
  check_cert_expiry -H mail.example.com -P smtp -w 21 -c 7
  check_cert_expiry -H www.example.com --min-tls-version 1.2 --proxy http://proxy:3128
  check_cert_expiry -H 192.0.2.10 -p 636 --sni ldap.example.com
  check_cert_expiry -f '/etc/ssl/private/**/*.pem' -d /etc/nginx/certs --min-certs 12
  check_cert_expiry -f /srv/app/keystore.p12 --password-file /etc/nagios/p12.pass
  check_cert_expiry -f '/opt/app/conf/*.jks' --password-env KEYSTORE_PASS
  check_cert_expiry -d /etc/pki/crl -w 2 -c 1
  check_cert_expiry -H www.example.com --maximum-validity 397 --issuer "Let's Encrypt"
  check_cert_expiry --kubeadm --renewal-at 0.8
  check_cert_expiry --kubeconfig '/home/*/.kube/config'`

// Run gathers every source concurrently under the deadline, then judges.
func (c *Options) Run(ctx context.Context, env *plugin.Env) (plugin.Result, error) {
	obs, err := gather(ctx, env, c)
	if err != nil {
		return plugin.Result{}, err
	}
	return judge(c, obs), nil
}
