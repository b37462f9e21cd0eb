package main

import (
	"fmt"
	"net"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/capture/libpcap"
)

// replaySocket sends whole Ethernet frames on one interface.
type replaySocket struct{ c *packet.Conn }

func openReplaySocket(ifi *net.Interface) (*replaySocket, error) {
	// Bound to a protocol the socket would queue what arrives: a filter
	// that accepts nothing keeps its queue empty.
	none, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		return nil, err
	}
	c, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, &packet.Config{Filter: none})
	if err != nil {
		return nil, fmt.Errorf("replay: open a packet socket on %s: %w (it needs CAP_NET_RAW: run as root or setcap cap_net_raw+ep)", ifi.Name, err)
	}
	return &replaySocket{c}, nil
}

func (s *replaySocket) send(frame []byte) error {
	_, err := s.c.WriteTo(frame, &packet.Addr{HardwareAddr: net.HardwareAddr(frame[:6])})
	return err
}

func (s *replaySocket) Close() error { return s.c.Close() }

// openReplayCapture captures what comes back: IP frames arriving on the
// interface.
func openReplayCapture(ifname string) (capture.Source, error) {
	src, _, err := libpcap.Open(libpcap.Options{Interface: ifname, Filter: "ip or ip6", Direction: capture.DirectionIn, Snaplen: 2048})
	if err != nil {
		return nil, fmt.Errorf("replay: capture on %s: %w", ifname, err)
	}
	return src, nil
}
