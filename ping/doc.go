// Package ping is the probing engine: it sends echo requests to one or many
// targets through a Conn (one of four transports), matches what comes back
// and keeps iputils-compatible statistics.
//
// One goroutine schedules sends and timeouts for every target; one goroutine
// per Conn receives. A probe's entry is registered before it is sent. A
// reply counts only when its id, seq and payload cookie match a probe that
// was sent to the address it comes from; anything else is ignored, so other
// pingers on the host never pollute the statistics. RTTs come from the
// engine's own send table, never from the time the peer echoes back.
package ping
