package argocd

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// container is one container of a rendered or live object.
type container struct {
	key   string // kind/namespace/name/field/container name: pairs target and live
	where string // "Deployment prod/web container web", for messages
	image string
}

// containersOf lists the containers (also init and ephemeral ones) of an
// object given as JSON, at any depth (pods, pod templates, job templates).
func containersOf(r ManagedResource, state string) []container {
	state = strings.TrimSpace(state)
	if state == "" || state == "null" {
		return nil
	}
	var obj any
	if json.Unmarshal([]byte(state), &obj) != nil {
		return nil
	}
	id := r.Kind + " " + r.Name
	if r.Namespace != "" {
		id = r.Kind + " " + r.Namespace + "/" + r.Name
	}
	var out []container
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				if k != "containers" && k != "initContainers" && k != "ephemeralContainers" {
					walk(child, at+"/"+k)
					continue
				}
				list, _ := child.([]any)
				for _, c := range list {
					cm, _ := c.(map[string]any)
					name, _ := cm["name"].(string)
					img, _ := cm["image"].(string)
					if img != "" {
						out = append(out, container{key: r.Group + "/" + id + at + "/" + k + "/" + name, where: id + " container " + name, image: img})
					}
				}
			}
		case []any:
			for _, child := range t {
				walk(child, at)
			}
		}
	}
	walk(obj, "")
	return out
}

// imageParts splits an image reference into name, tag and digest.
func imageParts(ref string) (name, tag, digest string) {
	name, digest, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}

// sameImage reports whether the image got is want: the same name, and the
// tag and digest want names (a want without a tag, from newName alone,
// matches any tag).
func sameImage(got, want string) bool {
	gn, gt, gd := imageParts(got)
	wn, wt, wd := imageParts(want)
	return gn == wn && (wt == "" || gt == wt || (gt == "" && wd != "")) && (wd == "" || gd == wd)
}

// liveVerdict checks, for an application that Ready found deployed, that
// the cluster runs our images: every container whose desired image is one
// of ours runs it live, and status.summary.images (where Argo CD lists
// any) holds it. None of ours in the desired state at all fails; a live
// object that still runs another image waits.
func (w *waiter) liveVerdict(ctx context.Context, app *Application, images []string) (Verdict, error) {
	rctx, cancel := context.WithTimeout(ctx, w.spec.RequestTimeout)
	defer cancel()
	res, err := w.c.ManagedResources(rctx, w.ref)
	if err != nil {
		if fatal(err) || ctx.Err() != nil {
			return Verdict{}, err
		}
		w.lastErr = err
		return waiting("reading the live resources: %v", err), nil
	}
	return liveImages(res, app.Status.Summary.Images, images, short(app.anyRevision())), nil
}

// liveImages is the rule of liveVerdict over what Argo CD answered.
func liveImages(res []ManagedResource, summary, images []string, rev string) Verdict {
	live := map[string]container{}
	for _, r := range res {
		for _, c := range containersOf(r, r.LiveState) {
			live[c.key] = c
		}
	}
	var carried []string
	for _, r := range res {
		for _, c := range containersOf(r, r.TargetState) {
			i := slices.IndexFunc(images, func(img string) bool { return sameImage(c.image, img) })
			if i < 0 {
				continue
			}
			if !slices.Contains(carried, images[i]) {
				carried = append(carried, images[i])
			}
			l, ok := live[c.key]
			switch {
			case !ok:
				return waiting("the live %s does not exist yet (want %s)", c.where, c.image)
			case !sameImage(l.image, images[i]):
				return waiting("the live %s runs %s, not %s", l.where, cutImage(l.image), cutImage(images[i]))
			}
		}
	}
	if len(carried) == 0 {
		return Verdict{State: Failed, Reason: fmt.Sprintf("Argo CD reports Synced and Healthy at %s, but no container it renders uses %s: the application does not deploy the edited overlay, or a later change replaced the images",
			rev, strings.Join(cutAll(images), ", "))}
	}
	if len(summary) > 0 {
		for _, img := range carried {
			if !slices.ContainsFunc(summary, func(s string) bool { return sameImage(s, img) }) {
				return waiting("status.summary.images does not list %s yet", cutImage(img))
			}
		}
	}
	return Verdict{State: Deployed, Reason: fmt.Sprintf("Synced and Healthy at %s; the live containers run %s", rev, strings.Join(cutAll(carried), ", "))}
}

func cutImage(s string) string { return cut(s, 200) }

func cutAll(images []string) []string {
	out := make([]string, len(images))
	for i, s := range images {
		out[i] = cutImage(s)
	}
	return out
}
