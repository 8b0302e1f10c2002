package certexpiry

import "github.com/hindsight-plugins/hindsight/pkg/plugin"

// judgeNet adds the revocation and TLS version findings of one
// certificate.
func judgeNet(o *Options, v *verdicts, n netFacts) {
	if n.Revoked != "" {
		v.add(plugin.CRITICAL, n.Revoked)
	}
	if n.RevErr != "" {
		v.add(stateOr(o.RevocationErrorState, plugin.WARNING), "revocation not checked: "+n.RevErr)
	}
	if n.RevOK != "" {
		v.add(plugin.OK, n.RevOK)
	}
	if n.OldTLS != "" {
		v.add(plugin.CRITICAL, n.OldTLS)
	}
	if n.OldTLSErr != "" {
		v.add(plugin.UNKNOWN, n.OldTLSErr)
	}
}
