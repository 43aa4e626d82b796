// Package rollout stands in for the kube-controller-manager and kubelets the real-world test
// tier does not run: it watches Deployments and, after a delay, writes the status a finished
// rollout has (Available, Progressing reason NewReplicaSetAvailable), or for an image matching
// a pattern the status of a rollout that exceeded its progress deadline (Progressing=False,
// reason ProgressDeadlineExceeded), which Argo CD reports as Degraded.
package rollout

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
)

// Options shape Run.
type Options struct {
	Delay  time.Duration                    // how long a new generation stays unrolled
	Broken *regexp.Regexp                   // images that never become available; nil = none
	Logf   func(format string, args ...any) // one line per status written; nil = discard
}

// Run watches every Deployment until ctx ends. Its error is only a failure to start watching.
func Run(ctx context.Context, cs kubernetes.Interface, o Options) error {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	r := &roller{cs: cs, o: o, pending: map[string]int64{}}
	f := informers.NewSharedInformerFactory(cs, 0)
	inf := f.Apps().V1().Deployments().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.seen(ctx, obj) },
		UpdateFunc: func(_, obj any) { r.seen(ctx, obj) },
	})
	if err != nil {
		return fmt.Errorf("watching deployments: %w", err)
	}
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
	r.wg.Wait()
	return nil
}

type roller struct {
	cs      kubernetes.Interface
	o       Options
	mu      sync.Mutex
	pending map[string]int64 // namespace/name -> generation scheduled
	wg      sync.WaitGroup
}

// seen schedules the rollout of a Deployment generation not observed yet.
func (r *roller) seen(ctx context.Context, obj any) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok || d.Generation <= d.Status.ObservedGeneration {
		return
	}
	key := d.Namespace + "/" + d.Name
	r.mu.Lock()
	if r.pending[key] >= d.Generation {
		r.mu.Unlock()
		return
	}
	r.pending[key] = d.Generation
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.o.Delay):
		}
		err := retry.RetryOnConflict(retry.DefaultBackoff, func() error { return r.roll(ctx, d.Namespace, d.Name) })
		if err != nil && ctx.Err() == nil {
			r.o.Logf("rollout stand-in: %s: %v", key, err)
		}
		r.mu.Lock()
		if r.pending[key] == d.Generation {
			delete(r.pending, key)
		}
		r.mu.Unlock()
	}()
}

// roll writes the finished (or failed) status of the Deployment's current generation.
func (r *roller) roll(ctx context.Context, ns, name string) error {
	d, err := r.cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	if d.Generation <= d.Status.ObservedGeneration {
		return nil
	}
	n := int32(1)
	if d.Spec.Replicas != nil {
		n = *d.Spec.Replicas
	}
	now := metav1.Now()
	rs := fmt.Sprintf("%s-%d", d.Name, d.Generation)
	broken := r.o.Broken != nil && brokenImage(d.Spec.Template.Spec.Containers, r.o.Broken)
	st := appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n}
	if broken {
		st.UnavailableReplicas = n
		st.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable",
				Message: "Deployment does not have minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
				Message: fmt.Sprintf("ReplicaSet %q has timed out progressing.", rs), LastUpdateTime: now, LastTransitionTime: now},
		}
	} else {
		st.ReadyReplicas, st.AvailableReplicas = n, n
		st.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
				Message: "Deployment has minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
				Message: fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs), LastUpdateTime: now, LastTransitionTime: now},
		}
	}
	d.Status = st
	if _, err := r.cs.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
		return err // a conflict is retried by the caller
	}
	r.o.Logf("rollout stand-in: %s/%s generation %d %s", ns, name, d.Generation, map[bool]string{true: "failed (ProgressDeadlineExceeded)", false: "rolled out"}[broken])
	return nil
}

func brokenImage(cs []corev1.Container, re *regexp.Regexp) bool {
	for _, c := range cs {
		if re.MatchString(c.Image) {
			return true
		}
	}
	return false
}
