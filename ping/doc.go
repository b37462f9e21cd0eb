// Package ping is the probing engine: it sends echo requests to one or many
// targets through a Conn (one of four transports), matches what comes back
// and keeps iputils-compatible statistics.
//
// Fleet is the pipeline every command shares: it resolves the targets (a
// target that cannot be resolved is a Member with an error, not a failed
// run), asks each next hop for its MAC once, opens one Conn per interface,
// source, family and mode, falling back to the ping socket without
// CAP_NET_RAW, and owns those Conns. New, which a Fleet calls, refuses what
// a transport cannot carry (Refuse, ErrRefused), in the library's own words.
//
// One goroutine schedules sends and timeouts for every target; one goroutine
// per Conn receives. A probe's entry is registered under the engine's lock
// and sent with the lock released, so receivers never wait for a system
// call; an answer that arrives while its send call still runs is counted
// once the call returns. A reply counts only when its id, seq and the
// probe's authenticator (see craft.Payload, keyed with Config.Key) match a
// probe that was sent to the address it comes from; anything else is
// ignored, so neither other pingers on the host nor forgers pollute the
// statistics. RTTs come from the engine's own send table, never from the
// time the peer echoes back.
package ping
