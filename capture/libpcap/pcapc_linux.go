//go:build linux && cgo

package libpcap

/*
#cgo linux LDFLAGS: -lpcap
#include <pcap.h>
*/
import "C"

import (
	"errors"
	"reflect"
	"unsafe"

	"github.com/google/gopacket/pcap"
)

// setDatalink is pcap_set_datalink on an active handle. gopacket's
// SetLinkType takes its 8-bit LinkType, which cannot say LINUX_SLL2 (276),
// so the pcap_t is read from the handle's unexported field (reflect reads,
// never writes, it); a gopacket without that field fails here.
func setDatalink(h *pcap.Handle, dlt int) error {
	p, err := pcapT(h)
	if err != nil {
		return err
	}
	if C.pcap_set_datalink(p, C.int(dlt)) < 0 {
		return errors.New(C.GoString(C.pcap_geterr(p)))
	}
	return nil
}

// datalink is pcap_datalink, all of it.
func datalink(h *pcap.Handle) (int, error) {
	p, err := pcapT(h)
	if err != nil {
		return 0, err
	}
	return int(C.pcap_datalink(p)), nil
}

func pcapT(h *pcap.Handle) (*C.pcap_t, error) {
	f := reflect.ValueOf(h).Elem().FieldByName("cptr")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return nil, errors.New("libpcap: gopacket's pcap.Handle has no cptr field")
	}
	return (*C.pcap_t)(unsafe.Pointer(f.Pointer())), nil
}

// tstampTypeDescription is pcap_tstamp_type_val_to_description.
func tstampTypeDescription(t pcap.TimestampSource) string {
	d := C.pcap_tstamp_type_val_to_description(C.int(t))
	if d == nil {
		return ""
	}
	return C.GoString(d)
}
