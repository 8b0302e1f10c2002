package certexpiry

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hindsight-plugins/hindsight/internal/certtest"
	"github.com/hindsight-plugins/hindsight/pkg/plugin"
)

// gatherArgs gathers with the options args and a resolver of the test's
// choosing, then judges, as Run does.
func gatherArgs(t *testing.T, lookup lookupFunc, args ...string) (plugin.Result, observations) {
	t.Helper()
	o, msg := parse(t, args...)
	if o == nil {
		t.Fatal(msg)
	}
	env := plugin.NewEnv(5 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), env.Deadline)
	defer cancel()
	obs, err := gatherWith(ctx, env, o, lookup)
	if err != nil {
		t.Fatal(err)
	}
	return judge(o, obs), obs
}

// TestAllAddresses: a name with two addresses (127.0.0.1 and 127.0.0.2,
// both loopback), each serving a different certificate, as a
// load-balancer pool renewed on one member only.
func TestAllAddresses(t *testing.T) {
	p := newPKI(t)
	v4 := certtest.ServeTLS(t, p.leaf(t, 80.5, 90, func(s *certtest.Spec) { s.DNS = []string{"pool.test"} }).TLS(p.inter))
	_, port, _ := net.SplitHostPort(v4)
	certtest.ServeTLSOn(t, "127.0.0.2:"+port, p.leaf(t, 5.55, 90, func(s *certtest.Spec) { s.DNS = []string{"pool.test"} }).TLS(p.inter))
	var asked []string
	lookup := func(_ context.Context, _ *net.Resolver, host, network string) ([]string, error) {
		asked = append(asked, host+"/"+network)
		return []string{"127.0.0.1", "127.0.0.2"}, nil
	}
	res, _ := gatherArgs(t, lookup, "-H", "pool.test:"+port, "--all-addresses", "--ca-file", p.rootFile, "-4")
	out := plugin.Render(Plugin.Service, res, 1<<20)
	expect(t, "all addresses", int(res.State()), out, 2,
		"[CRITICAL] pool.test:"+port+" via 127.0.0.2#0 (svc.test): expires in 5.5 days",
		"[OK] pool.test:"+port+" via 127.0.0.1#0 (svc.test): expires in 80 days",
		"[WARNING] pool.test:"+port+": its addresses serve 2 different certificates: 127.0.0.2 serve(s) one valid until")
	if strings.Join(asked, ",") != "pool.test/tcp4" {
		t.Errorf("lookups: %v, want pool.test/tcp4", asked)
	}
}

// TestGatherKubeadmFixture: the kubeadm tree with a replaced CA is read
// through the file source; the kubelet's client certificate, named both
// by kubelet.conf and on its own, is judged once (through the
// kubeconfig, which knows its CA), and the kubeconfigs' old CA is seen
// as replaced.
func TestGatherKubeadmFixture(t *testing.T) {
	_, obs := gatherArgs(t, nil, "--kubeadm", "--kubernetes-dir", fixture+"/etc/kubernetes", "--kubelet-dir", fixture+"/var/lib/kubelet")
	if obs.Read != obs.Found || obs.Found == 0 {
		t.Errorf("read %d of %d files", obs.Read, obs.Found)
	}
	client, replaced := 0, 0
	for _, s := range obs.Sources {
		if strings.HasSuffix(s.Name, "kubelet-client-current.pem") {
			client++
			if s.Kind != kindKubeClient || !s.signed {
				t.Errorf("the kubelet's client certificate is not the kubeconfig's: %+v", s)
			}
		}
		if s.ReplacedCA != "" {
			replaced++
		}
		if s.Err != nil {
			t.Errorf("%s: %v", s.Name, s.Err)
		}
	}
	if client != 1 || replaced != 5 {
		t.Errorf("kubelet-client-current.pem judged %d times, %d kubeconfig CAs replaced; want 1 and 5", client, replaced)
	}
}
