package ping

import (
	"fmt"

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
		var c *ringConn
		var err error
		if !oc.Flood && oc.Probes > 0 && oc.Probes <= shortRun {
			c, err = openDirectConn(p, m, oc.ID)
		} else {
			c, err = openRingConn(p, m, oc.ID, snaplen, blocks)
		}
		if err != nil {
			return nil, err
		}
		// The ring only receives: the options go to the socket that sends.
		if err := setSocketOptions(c.send.rc, false, false, oc.Socket); err != nil {
			c.Close()
			return nil, fmt.Errorf("ping: %s mode on %s: %w", m, p.Interface, err)
		}
		return c, nil
	}
	c, err := openSocketConn(p, m, oc.ID)
	if err != nil {
		return nil, err
	}
	c.pmtu = oc.PMTUDisc
	if err := setSocketOptions(c.rc, c.six, true, oc.Socket); err != nil {
		c.Close()
		return nil, fmt.Errorf("ping: %s socket on %s: %w", m, p.Interface, err)
	}
	if c.six && oc.Socket.FlowLabel != 0 {
		if err := c.setFlowLabel(oc.Socket.FlowLabel); err != nil {
			c.Close()
			return nil, fmt.Errorf("ping: %s socket on %s: %w", m, p.Interface, err)
		}
	}
	if oc.InFlight == 0 {
		return c, nil
	}
	if err := c.setReceiveBuffer(min(oc.InFlight*sockBytesPerReply, maxReceiveBuffer)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
