package argocdsim

import (
	"net/http"
	"sort"
)

// resourceDiff is Argo CD's v1alpha1.ResourceDiff, as
// GET /api/v1/applications/{name}/managed-resources lists it: the states
// are JSON documents in strings, "null" where the object is absent.
type resourceDiff struct {
	Group               string `json:"group,omitempty"`
	Kind                string `json:"kind"`
	Namespace           string `json:"namespace,omitempty"`
	Name                string `json:"name"`
	TargetState         string `json:"targetState"`
	LiveState           string `json:"liveState"`
	NormalizedLiveState string `json:"normalizedLiveState"`
	PredictedLiveState  string `json:"predictedLiveState"`
	Modified            bool   `json:"modified"`
	Hook                bool   `json:"hook,omitempty"`
	ResourceVersion     string `json:"resourceVersion,omitempty"`
}

// handleManagedResources serves the live objects (what the last successful
// sync applied) next to the desired ones (the revision last compared).
func (s *Server) handleManagedResources(w http.ResponseWriter, r *http.Request) {
	a := s.lookup(r.PathValue("name"), r.URL.Query().Get("appNamespace"))
	if a == nil {
		writeError(w, http.StatusForbidden, 7, "permission denied")
		return
	}
	s.mu.Lock()
	items := managedResources(a.desired, a.live)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"items": items})
}

// managedResources pairs the desired and live objects by group, kind,
// namespace and name.
func managedResources(desired, live *manifest) []resourceDiff {
	byKey := map[string]*resourceDiff{}
	hashes := map[string][2]string{}
	add := func(m *manifest, isLive bool) {
		if m == nil {
			return
		}
		for i, res := range m.resources {
			k := resKey(res)
			d := byKey[k]
			if d == nil {
				d = &resourceDiff{Group: res.Group, Kind: res.Kind, Namespace: res.Namespace, Name: res.Name, TargetState: "null", LiveState: "null"}
				byKey[k] = d
			}
			obj := "null"
			if i < len(m.objects) {
				obj = m.objects[i]
			}
			h := hashes[k]
			if isLive {
				d.LiveState, d.NormalizedLiveState, h[1] = obj, obj, m.hashes[i]
			} else {
				d.TargetState, d.PredictedLiveState, h[0] = obj, obj, m.hashes[i]
			}
			hashes[k] = h
		}
	}
	add(desired, false)
	add(live, true)
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]resourceDiff, 0, len(keys))
	for _, k := range keys {
		d := byKey[k]
		d.Modified = hashes[k][0] != hashes[k][1]
		if d.LiveState == "null" {
			d.NormalizedLiveState = "null"
		}
		out = append(out, *d)
	}
	return out
}
