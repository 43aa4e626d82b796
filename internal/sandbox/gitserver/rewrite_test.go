package gitserver

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pkts(lines ...string) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		if l == "" {
			writePkt(&b, nil)
			continue
		}
		writePkt(&b, []byte(l))
	}
	return b.Bytes()
}

func TestRewriteReport(t *testing.T) {
	reasons := map[string]string{"refs/heads/main": "protected branch hook declined"}
	report := func(reason string) []byte {
		return pkts("unpack ok\n", "ng refs/heads/main "+reason+"\n", "ok refs/heads/dev\n", "")
	}
	sideband := func(report []byte) []byte {
		return pkts("\x02error: GH006: Protected branch update failed for refs/heads/main.\n", "\x01"+string(report), "")
	}
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"bare report", report("pre-receive hook declined"), report("protected branch hook declined")},
		{"side-band report", sideband(report("pre-receive hook declined")), sideband(report("protected branch hook declined"))},
		{"other refusal kept", report("non-fast-forward"), report("non-fast-forward")},
		{"not pkt-lines kept", []byte("garbage"), []byte("garbage")},
		{"empty kept", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rewriteReport(tc.in, reasons)
			if diff := cmp.Diff(string(tc.want), string(got)); diff != "" {
				t.Errorf("rewriteReport (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzRewriteReport(f *testing.F) {
	f.Add(pkts("unpack ok\n", "ng refs/heads/main pre-receive hook declined\n", ""))
	f.Add(pkts("\x01"+string(pkts("unpack ok\n", "ng refs/heads/main pre-receive hook declined\n", "")), ""))
	f.Add([]byte("0004"))
	f.Fuzz(func(t *testing.T, in []byte) {
		reasons := map[string]string{"refs/heads/main": "push declined due to repository rule violations"}
		out := rewriteReport(in, reasons)
		if _, ok := splitPktLines(in); ok {
			if _, ok := splitPktLines(out); !ok {
				t.Errorf("rewriteReport(%q) = %q: no longer pkt-lines", in, out)
			}
		} else if !bytes.Equal(in, out) {
			t.Errorf("rewriteReport changed input that is not pkt-lines: %q -> %q", in, out)
		}
		if again := rewriteReport(out, reasons); !bytes.Equal(again, out) {
			t.Errorf("rewriteReport is not idempotent: %q -> %q", out, again)
		}
	})
}
