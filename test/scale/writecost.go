package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// writeCost measures what one write of each tool costs kube-apiserver and
// etcd, on a control plane that does nothing else: --write-cost LabelGroups
// get their status written the way the operator writes it, and as many
// EndpointSlices of the same members are created and updated the way the
// EndpointSlice controller writes them, 64 writes in flight as the
// operator's --status-writers. Each group and slice lists pods/groups
// members, as in the main run.
func (r *run) writeCost(ctx context.Context) error {
	_, c, _, err := r.startCluster()
	if err != nil {
		return err
	}
	n, members := r.p.writeCost, max(1, r.p.pods/r.p.groups)
	ns := namespaceName(0)
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	groups := make([]*v1alpha1.LabelGroup, n)
	slices := make([]*discoveryv1.EndpointSlice, n)
	if err := parallel(n, 16, func(i int) error {
		groups[i] = &v1alpha1.LabelGroup{
			ObjectMeta: metav1.ObjectMeta{Name: groupName(i), Namespace: ns},
			Spec: v1alpha1.LabelGroupSpec{Selector: v1alpha1.LabelSelector{
				MatchLabels: map[string]v1alpha1.LabelValue{groupLabel: v1alpha1.LabelValue(groupName(i))},
			}},
		}
		return c.Create(ctx, groups[i])
	}); err != nil {
		return err
	}
	cpu := newCPULine(nil)
	fmt.Fprintf(r.out, "\n## write cost: %d writes of each kind, %d members each, 64 in flight, nothing else running\n\n", n, members)
	fmt.Fprintf(r.out, "| write | writes/s | kube-apiserver CPU per write | etcd CPU per write |\n| --- | --- | --- | --- |\n")
	measure := func(what string, write func(i int) error) error {
		time.Sleep(2 * time.Second)
		before := cpu.processes()
		began := time.Now()
		if err := parallel(n, 64, write); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		took := time.Since(began)
		time.Sleep(500 * time.Millisecond) // the watch cache's decoding of the last events
		after := cpu.processes()
		per := func(name string) string {
			return fmt.Sprintf("%.2f ms", float64((after[name]-before[name]).Microseconds())/1000/float64(n))
		}
		fmt.Fprintf(r.out, "| %s | %.0f | %s | %s |\n", what, float64(n)/took.Seconds(), per("kube-apiserver"), per("etcd"))
		return nil
	}
	for round := range 2 {
		if err := measure("LabelGroup status: merge patch with optimistic lock (the operator's)", func(i int) error {
			before := groups[i].DeepCopy()
			groups[i].Status = costStatus(members, i, 2*round)
			return c.Status().Patch(ctx, groups[i], client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		}); err != nil {
			return err
		}
		if err := measure("LabelGroup status: update (PUT)", func(i int) error {
			groups[i].Status = costStatus(members, i, 2*round+1)
			return c.Status().Update(ctx, groups[i])
		}); err != nil {
			return err
		}
	}
	if err := measure("EndpointSlice: create (the EndpointSlice controller's first write)", func(i int) error {
		slices[i] = costSlice(ns, members, i, 0)
		return c.Create(ctx, slices[i])
	}); err != nil {
		return err
	}
	return measure("EndpointSlice: update (its write after a relabel)", func(i int) error {
		slices[i].Endpoints = costSlice(ns, members, i, 1).Endpoints
		return c.Update(ctx, slices[i])
	})
}

// costStatus is a status like the operator's for a group of members pods;
// round changes the members so that every write changes something.
func costStatus(members, i, round int) v1alpha1.LabelGroupStatus {
	s := v1alpha1.LabelGroupStatus{ObservedGeneration: 1, MemberCount: int32(members), Selector: groupLabel + "=" + groupName(i)}
	for m := range members {
		s.Members = append(s.Members, podName(m*1000+i+round))
	}
	now := metav1.Now()
	s.Conditions = []metav1.Condition{
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Computed", Message: fmt.Sprintf("%d members", members), ObservedGeneration: 1, LastTransitionTime: now},
		{Type: v1alpha1.ConditionOverlapping, Status: metav1.ConditionFalse, Reason: "NoOverlap", Message: "No other LabelGroup of the namespace selects a member", ObservedGeneration: 1, LastTransitionTime: now},
	}
	return s
}

// costSlice is an EndpointSlice like the EndpointSlice controller's for a
// Service of members Ready pods.
func costSlice(ns string, members, i, round int) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: groupName(i) + "-slice", Namespace: ns, Labels: map[string]string{
			discoveryv1.LabelServiceName: groupName(i), discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](80), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	for m := range members {
		j := m*1000 + i + round
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.%d.%d.%d", j>>16&255, j>>8&255, j&255)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
			NodeName:   ptr.To(nodeName(j % 50)),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: podName(j)},
		})
	}
	return s
}
