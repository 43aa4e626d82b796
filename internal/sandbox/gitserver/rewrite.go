package gitserver

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// git's receive-pack reports a refusal by any pre-receive hook as
// "pre-receive hook declined"; GitHub reports its own reasons. rewriteReport
// replaces the reason for each ref in reasons inside a receive-pack answer,
// which is a pkt-line report-status, either bare or carried in side-band
// channel 1. An answer it cannot parse is returned unchanged.
func rewriteReport(body []byte, reasons map[string]string) []byte {
	pkts, ok := splitPktLines(body)
	if !ok || len(pkts) == 0 {
		return body
	}
	first := pkts[0]
	if len(first) > 0 && first[0] > 3 {
		// No side-band: the report-status pkt-lines are the answer itself.
		var out bytes.Buffer
		for _, p := range pkts {
			writePkt(&out, rewriteStatusLine(p, reasons))
		}
		return out.Bytes()
	}
	// Side-band: gather channel 1, rewrite it, and send it back in the place
	// of the first channel-1 packet.
	var band1 []byte
	for _, p := range pkts {
		if len(p) > 0 && p[0] == 1 {
			band1 = append(band1, p[1:]...)
		}
	}
	inner, ok := splitPktLines(band1)
	if !ok {
		return body
	}
	var report bytes.Buffer
	for _, p := range inner {
		writePkt(&report, rewriteStatusLine(p, reasons))
	}
	var out bytes.Buffer
	written := false
	for _, p := range pkts {
		if len(p) > 0 && p[0] == 1 {
			if !written {
				data := report.Bytes()
				for len(data) > 0 {
					n := min(len(data), 65515)
					writePkt(&out, append([]byte{1}, data[:n]...))
					data = data[n:]
				}
				written = true
			}
			continue
		}
		writePkt(&out, p)
	}
	return out.Bytes()
}

func rewriteStatusLine(p []byte, reasons map[string]string) []byte {
	const declined = "pre-receive hook declined"
	line := string(p)
	if !strings.HasPrefix(line, "ng ") {
		return p
	}
	rest := strings.TrimSuffix(strings.TrimPrefix(line, "ng "), "\n")
	ref, reason, _ := strings.Cut(rest, " ")
	if want, ok := reasons[ref]; ok && reason == declined {
		return []byte("ng " + ref + " " + want + "\n")
	}
	return p
}

// splitPktLines splits data into pkt-line payloads; a flush packet is nil.
func splitPktLines(data []byte) ([][]byte, bool) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 4 {
			return nil, false
		}
		n, err := strconv.ParseUint(string(data[:4]), 16, 16)
		if err != nil {
			return nil, false
		}
		if n == 0 {
			out = append(out, nil)
			data = data[4:]
			continue
		}
		if n < 4 || int(n) > len(data) {
			return nil, false
		}
		out = append(out, data[4:n])
		data = data[n:]
	}
	return out, true
}

func writePkt(w *bytes.Buffer, p []byte) {
	if p == nil {
		w.WriteString("0000")
		return
	}
	fmt.Fprintf(w, "%04x", len(p)+4)
	w.Write(p)
}
