package fluxworld

import (
	"context"
	"fmt"
	"regexp"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// runRollout is a minimal rollout stand-in (there is no kube-controller-manager or kubelet):
// every 100 ms it looks for Deployments whose generation is not observed yet and, delay
// after first seeing one, writes the status of a finished rollout, or for an image matching
// broken that of a rollout past its progress deadline (Progressing=False,
// ProgressDeadlineExceeded), which kustomize-controller's health check reports as Failed.
// (The Argo CD tier's rollout package does the same with an informer; this one can go when
// the two worlds merge.)
func runRollout(ctx context.Context, cs kubernetes.Interface, delay time.Duration, broken *regexp.Regexp, logf func(string, ...any)) error {
	first := map[string]time.Time{} // namespace/name@generation -> first seen
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		list, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for i := range list.Items {
			d := &list.Items[i]
			if d.Generation <= d.Status.ObservedGeneration {
				continue
			}
			key := fmt.Sprintf("%s/%s@%d", d.Namespace, d.Name, d.Generation)
			seen, ok := first[key]
			if !ok {
				first[key] = time.Now()
				continue
			}
			if time.Since(seen) < delay {
				continue
			}
			failed := false
			for _, c := range d.Spec.Template.Spec.Containers {
				failed = failed || (broken != nil && broken.MatchString(c.Image))
			}
			d.Status = rolledOut(d, failed)
			if _, err := cs.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err == nil {
				logf("rollout stand-in: %s failed=%v", key, failed)
			}
		}
	}
}

func rolledOut(d *appsv1.Deployment, failed bool) appsv1.DeploymentStatus {
	n := int32(1)
	if d.Spec.Replicas != nil {
		n = *d.Spec.Replicas
	}
	now := metav1.Now()
	rs := fmt.Sprintf("%s-%d", d.Name, d.Generation)
	st := appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n}
	if failed {
		st.UnavailableReplicas = n
		st.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: fmt.Sprintf("ReplicaSet %q has timed out progressing.", rs), LastUpdateTime: now, LastTransitionTime: now},
		}
		return st
	}
	st.ReadyReplicas, st.AvailableReplicas = n, n
	st.Conditions = []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", Message: fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs), LastUpdateTime: now, LastTransitionTime: now},
	}
	return st
}
