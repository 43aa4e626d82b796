package rollout

import (
	"context"
	"regexp"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func deployment(name, image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "staging", Generation: 1},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: image}},
		}}},
	}
}

// TestRollsOutOrFails: a new generation is marked rolled out after the delay (what Argo CD
// reads as Healthy); an image matching the broken pattern gets ProgressDeadlineExceeded
// (Degraded).
func TestRollsOutOrFails(t *testing.T) {
	cs := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cs, Options{Delay: 50 * time.Millisecond, Broken: regexp.MustCompile(`:[^@]*broken`)})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	for _, d := range []*appsv1.Deployment{deployment("good", "ghcr.io/acme/app:1.5.0"), deployment("bad", "ghcr.io/acme/app:1.5.0-broken")} {
		if _, err := cs.AppsV1().Deployments("staging").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{"good": "NewReplicaSetAvailable", "bad": "ProgressDeadlineExceeded"}
	deadline := time.Now().Add(30 * time.Second)
	for name, reason := range want {
		for {
			d, err := cs.AppsV1().Deployments("staging").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Status.ObservedGeneration == 1 {
				var got string
				for _, c := range d.Status.Conditions {
					if c.Type == appsv1.DeploymentProgressing {
						got = c.Reason
					}
				}
				if got != reason {
					t.Errorf("%s: Progressing reason %q, want %q", name, got, reason)
				}
				if name == "good" && d.Status.AvailableReplicas != 1 {
					t.Errorf("good: %d available replicas, want 1", d.Status.AvailableReplicas)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: status never written", name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
