//go:build linux && cgo

package libpcap

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestCookedPing: -i any's capture sees iputils' requests leave and the
// replies come in on the host link, each with its direction in the cooked
// header, and counts them.
func TestCookedPing(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	var c *Cooked
	if err := l.Host.Do(func() error {
		var err error
		c, err = OpenCooked(&CookedConfig{PollTimeout: 20 * time.Millisecond, Filter: "icmp"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.LinkType() != layers.LinkTypeLinuxSLL {
		t.Fatalf("link type %v, want Linux SLL", c.LinkType())
	}
	if out, err := l.Host.Command(t.Context(), "ping", "-c", "2", "-i", "0.2", l.Target4.String()).CombinedOutput(); err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	// SLL packet types: 0 to us, 4 outgoing.
	var types []uint16
	for deadline := time.Now().Add(3 * time.Second); len(types) < 4 && time.Now().Before(deadline); {
		data, _, err := c.ReadPacket()
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 16 || binary.BigEndian.Uint16(data[14:]) != uint16(layers.EthernetTypeIPv4) {
			t.Fatalf("frame % x: not a cooked IPv4 frame", data)
		}
		types = append(types, binary.BigEndian.Uint16(data))
	}
	if diff := cmp.Diff([]uint16{4, 0, 4, 0}, types); diff != "" {
		t.Errorf("packet types (-want +got):\n%s", diff)
	}
	st, err := c.Stats()
	if err != nil || st.Packets != 4 || st.Drops != 0 {
		t.Errorf("Stats() = %+v, %v; want 4 packets, no drops", st, err)
	}
	c.Close()
	if _, _, err := c.ReadPacket(); err == nil {
		t.Error("ReadPacket after Close succeeded")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
