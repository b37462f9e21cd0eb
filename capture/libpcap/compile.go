//go:build cgo

package libpcap

/*
#cgo linux LDFLAGS: -lpcap
#include <stdlib.h>
#include <pcap.h>

// compile runs pcap_compile on a dead handle of dlt; on failure it copies
// libpcap's message into errbuf.
static int pingcraft_compile(int dlt, int snaplen, const char *expr, struct bpf_program *prog, char *errbuf) {
	pcap_t *p = pcap_open_dead(dlt, snaplen);
	if (p == NULL) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "pcap_open_dead failed");
		return -1;
	}
	int rc = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc < 0)
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
	pcap_close(p);
	return rc;
}
*/
import "C"

import (
	"unsafe"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
	"golang.org/x/net/bpf"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
)

// Compile compiles a libpcap filter expression (pcap-filter(7)) into
// classic BPF for frames of the given link type, accepting at most snaplen
// bytes of each; "" accepts every frame. The program uses no Linux
// extensions (pcap_compile on a dead handle), so golang.org/x/net/bpf can
// run it too. A bad expression returns a *CompileError with libpcap's
// message.
func Compile(link layers.LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	return CompileLink(craft.LinkTypeOf(link), snaplen, expr)
}

// CompileLink is Compile for any LINKTYPE_ value, those beyond gopacket's
// 8 bits included.
func CompileLink(link craft.LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var prog C.struct_bpf_program
	errbuf := (*C.char)(C.calloc(C.PCAP_ERRBUF_SIZE, 1))
	defer C.free(unsafe.Pointer(errbuf))
	// pcap_open_dead takes a DLT_ value; LINKTYPE_RAW (101) is DLT_RAW (12).
	if C.pingcraft_compile(C.int(capture.DLT(link)), C.int(snaplen), cexpr, &prog, errbuf) < 0 {
		return nil, &CompileError{Expr: expr, Msg: C.GoString(errbuf)}
	}
	defer C.pcap_freecode(&prog)
	insns := unsafe.Slice(prog.bf_insns, prog.bf_len)
	raw := make([]bpf.RawInstruction, len(insns))
	for i, in := range insns {
		raw[i] = bpf.RawInstruction{Op: uint16(in.code), Jt: uint8(in.jt), Jf: uint8(in.jf), K: uint32(in.k)}
	}
	return raw, nil
}

// LinkTypeName is libpcap's name and description of a link type, as
// tcpdump's first line gives them (pcap_datalink_val_to_name); ok is false
// for a link type libpcap has no name for.
func LinkTypeName(link craft.LinkType) (name, desc string, ok bool) {
	dlt := capture.DLT(link)
	name = pcap.DatalinkValToName(dlt)
	if name == "" {
		return "", "", false
	}
	return name, pcap.DatalinkValToDescription(dlt), true
}

// Version names the libpcap this binary runs with.
func Version() string { return pcap.Version() }
