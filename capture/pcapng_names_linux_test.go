package capture

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestFilePcapNGNames: a pcapng file names its interface and the program
// that wrote it where Wireshark's tools look, and nano pcap keeps the
// nanoseconds.
func TestFilePcapNGNames(t *testing.T) {
	tshark := labtest.RequireTool(t, "tshark", "tshark")
	capinfos := labtest.RequireTool(t, "capinfos", "wireshark-common")
	dir := t.TempDir()
	for _, o := range []FileOptions{
		{PcapNG: true, Interface: "h0", Application: "pingcraft 1.2.3"},
		{Nano: true},
	} {
		path := filepath.Join(dir, "f")
		o.Link, o.Snaplen = craft.LinkTypeEthernet, MaxSnaplen
		w, err := CreateFile(path, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 123456789), CaptureLength: 14, Length: 14}, make([]byte, 14)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.interface_name", "-e", "frame.time_epoch").Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		if want := o.Interface + "\t1.123456789\n"; string(out) != want {
			t.Errorf("%+v: tshark reads %q, want %q", o, out, want)
		}
		info, err := exec.Command(capinfos, path).Output()
		if err != nil {
			t.Fatalf("capinfos: %v", err)
		}
		if has := strings.Contains(string(info), "Capture application: pingcraft 1.2.3"); has != o.PcapNG {
			t.Errorf("%+v: capinfos says\n%s", o, info)
		}
	}
}
