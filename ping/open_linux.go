package ping

import (
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/resolve"
)

func open(p *resolve.Path, m Mode, oc *OpenConfig) (Conn, error) {
	switch m {
	case ModeEthernet, ModeIP:
		snaplen := 0
		if oc.Flood {
			snaplen = frameRingSnaplen(oc.Size)
		}
		blocks := 0
		if oc.InFlight > 0 {
			// Our requests and their replies both pass through the ring.
			blocks = min(2*oc.InFlight*ringBytesPerFrame, maxReceiveBuffer) / ringBlockSize
		}
		return openRingConn(p, m, oc.ID, snaplen, blocks)
	}
	c, err := openSocketConn(p, m, oc.ID)
	if err == nil {
		c.pmtu = oc.PMTUDisc
		if oc.Broadcast && !p.Target.Is6() {
			if err = c.c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
				c.Close()
				return nil, err
			}
		}
	}
	if err != nil || oc.InFlight == 0 {
		return c, err
	}
	if err := c.setReceiveBuffer(min(oc.InFlight*sockBytesPerReply, maxReceiveBuffer)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
