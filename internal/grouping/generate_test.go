package grouping

import (
	"fmt"
	"math/rand/v2"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// Label vocabulary of the generated namespaces.
var (
	tiers        = []string{"web", "api", "worker", "db", "cache"}
	environments = []string{"prod", "staging", "dev"}
	tracks       = []string{"stable", "canary"}
	teams        = []string{"payments", "search", "checkout", "identity", "platform", "data"}
	versions     = []string{"v1", "v2", "v3", "v4", "v5"}
)

// deployment is the labels shared by the pods of one generated Deployment.
type deployment struct {
	app    string
	labels map[string]string
}

// busyNamespace generates, from seed, podCount pods in Deployments and
// groupCount groups over them. Each Deployment has one to three live
// ReplicaSets (a rollout leaves the old one running for a while) whose pods
// share their labels, so the namespace has few distinct label sets, as in a
// cluster. With distinctLabels every pod also gets a label of its own, as a
// StatefulSet's pods do: the worst case, where no two pods share a label set.
func busyNamespace(seed uint64, podCount, groupCount int, distinctLabels bool) ([]Pod, []Group) {
	rng := rand.New(rand.NewPCG(seed, seed))
	var pods []Pod
	var apps []string
	for len(pods) < podCount {
		d := newDeployment(rng, len(apps))
		apps = append(apps, d.app)
		for range 1 + rng.IntN(3) {
			pods = appendReplicaSet(rng, pods, d, podCount, distinctLabels)
		}
	}
	groups := make([]Group, groupCount)
	for i := range groups {
		groups[i] = randomGroup(rng, fmt.Sprintf("group-%03d", i), apps)
	}
	return pods, groups
}

func newDeployment(rng *rand.Rand, i int) deployment {
	d := deployment{app: fmt.Sprintf("app-%d", i), labels: map[string]string{}}
	d.labels["app"] = d.app
	d.labels["tier"] = pick(rng, tiers)
	d.labels["environment"] = pick(rng, environments)
	if rng.IntN(10) < 7 {
		d.labels["team"] = pick(rng, teams)
	}
	if rng.IntN(10) < 6 {
		d.labels["track"] = pick(rng, tracks)
	}
	return d
}

// appendReplicaSet appends up to 30 pods of one ReplicaSet of d, stopping at podCount.
func appendReplicaSet(rng *rand.Rand, pods []Pod, d deployment, podCount int, distinctLabels bool) []Pod {
	hash := randomName(rng, 10)
	version := pick(rng, versions)
	for range 1 + rng.IntN(30) {
		if len(pods) == podCount {
			break
		}
		name := d.app + "-" + hash + "-" + randomName(rng, 5)
		pod := Pod{Name: name, Labels: map[string]string{"pod-template-hash": hash, "version": version}}
		for k, v := range d.labels {
			pod.Labels[k] = v
		}
		if distinctLabels {
			pod.Labels["statefulset.kubernetes.io/pod-name"] = name
		}
		pods = append(pods, pod)
	}
	return pods
}

// randomGroup returns a group of one of the shapes teams write: one app, a
// tier in an environment, a set of tiers, canaries, everything but dev, ...
// Some select nothing yet; about a third use the Selectors policy.
func randomGroup(rng *rand.Rand, name string, apps []string) Group {
	g := Group{Name: name, Policy: v1alpha1.OverlapPolicyMembers}
	if rng.IntN(3) == 0 {
		g.Policy = v1alpha1.OverlapPolicySelectors
	}
	switch rng.IntN(9) {
	case 0:
		g.Selector = sel("app=" + pick(rng, apps))
	case 1:
		g.Selector = sel(fmt.Sprintf("tier=%s,environment=%s", pick(rng, tiers), pick(rng, environments)))
	case 2:
		g.Selector = sel(fmt.Sprintf("tier in (%s,%s)", pick(rng, tiers), pick(rng, tiers)))
	case 3:
		g.Selector = sel("environment notin (dev),track")
	case 4:
		g.Selector = sel(fmt.Sprintf("tier=%s,!track", pick(rng, tiers)))
	case 5:
		g.Selector = sel(fmt.Sprintf("team in (%s,%s),environment notin (%s)", pick(rng, teams), pick(rng, teams), pick(rng, environments)))
	case 6:
		g.Selector = sel(fmt.Sprintf("app in (%s,%s,%s),version notin (v1)", pick(rng, apps), pick(rng, apps), pick(rng, apps)))
	case 7:
		g.Selector = sel("app=not-deployed-yet,track=canary")
	default:
		g.Selector = sel(fmt.Sprintf("environment=%s,track=canary", pick(rng, environments)))
	}
	return g
}

func pick(rng *rand.Rand, from []string) string {
	return from[rng.IntN(len(from))]
}

func randomName(rng *rand.Rand, length int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, length)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
