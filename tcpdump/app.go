package tcpdump

// Application printers tcpdump runs on well-known ports, where their
// output is part of a line pingcraft prints anyway (a TCP or UDP summary,
// a packet quoted in an ICMP error): print-ssh.c and print-timed.c.

import "strconv"

// ssh is ssh_print: the version line that opens an SSH connection
// (RFC 4253 4.2), when the segment starts with one.
func (d *dissector) ssh(off, length int) {
	d.proto = "ssh"
	for i, want := range []byte("SSH-") {
		if c := d.u8(off + i); d.cut || c != want {
			return
		}
	}
	for i := 4; i < length; i++ {
		c := d.u8(off + i)
		switch {
		case d.cut:
			return
		case c == '\n':
		case c == '\r':
			if i+1 >= length {
				return
			}
			if d.u8(off+i+1) != '\n' {
				return // binary data, or the capture ends (d.cut)
			}
		case c < 0x20 || c > 0x7e:
			return
		default:
			continue
		}
		d.s(": SSH: ")
		d.out = append(d.out, d.data[off:off+i]...)
		return
	}
}

// tspTypes is tsptype_str: the message types of timed(8)'s protocol.
var tspTypes = [...]string{"TSP_ANY", "TSP_ADJTIME", "TSP_ACK", "TSP_MASTERREQ", "TSP_MASTERACK",
	"TSP_SETTIME", "TSP_MASTERUP", "TSP_SLAVEUP", "TSP_ELECTION", "TSP_ACCEPT", "TSP_REFUSE",
	"TSP_CONFLICT", "TSP_RESOLVE", "TSP_QUIT", "TSP_DATE", "TSP_DATEREQ", "TSP_DATEACK",
	"TSP_TRACEON", "TSP_TRACEOFF", "TSP_MSITE", "TSP_MSITEREQ", "TSP_TEST", "TSP_SETDATE",
	"TSP_SETDATEREQ", "TSP_LOOP"}

// timed is timed_print (UDP port 525): type, version, sequence, the time
// or hop count some types carry, and the sender's name. It reads as far
// as the capture goes, as tcpdump does, not the UDP length.
func (d *dissector) timed(off int) {
	d.proto = "timed"
	typ := d.u8(off)
	if d.cut {
		return
	}
	if int(typ) < len(tspTypes) {
		d.s(tspTypes[typ])
	} else {
		d.s("(tsp_type 0x")
		d.x(uint64(typ))
		d.c(')')
	}
	// Each field is read before its label is printed, as ND_PRINT's
	// arguments are.
	vers := d.u8(off + 1)
	if d.cut {
		return
	}
	d.s(" vers ")
	d.u(uint64(vers))
	seq := d.u16(off + 2)
	if d.cut {
		return
	}
	d.s(" seq ")
	d.u(uint64(seq))
	switch typ {
	case 24: // TSP_LOOP
		if hops := d.u8(off + 4); !d.cut {
			d.s(" hopcnt ")
			d.u(uint64(hops))
		}
	case 1, 5, 22, 23: // ADJTIME, SETTIME, SETDATE, SETDATEREQ
		sec, usec := int32(d.u32(off+4)), int32(d.u32(off+8))
		if d.cut || usec < 0 {
			return
		}
		d.s(" time ")
		if sec < 0 && usec != 0 {
			sec++
			if sec == 0 {
				d.c('-')
			}
			usec = 1000000 - usec
		}
		d.out = strconv.AppendInt(d.out, int64(sec), 10)
		d.c('.')
		if usec < 0 { // %06d of a field over a million
			d.c('-')
			d.out = appendPad(d.out, uint64(-int64(usec)), 10, 5)
		} else {
			d.out = appendPad(d.out, uint64(usec), 10, 6)
		}
	}
	if d.cut {
		return
	}
	d.s(" name ")
	for i := off + 12; i < off+12+256; i++ {
		c := d.u8(i)
		if d.cut || c == 0 {
			return
		}
		d.char(c)
	}
}
