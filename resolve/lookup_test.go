package resolve_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingcraft/pingcraft/resolve"
)

// TestLookupSilentResolver: a resolver that never answers fails the
// lookup after LookupTimeout, in iputils' words, as ErrNameTemporary and
// ErrNoName; no advice on the spelling.
func TestLookupSilentResolver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newResolver(&fakeSystem{})
		r.Lookup = func(ctx context.Context, _, host string) ([]netip.Addr, error) {
			<-ctx.Done() // what a dropped query does
			return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true, IsTemporary: true}
		}
		start := time.Now()
		_, err := r.Resolve(context.Background(), "www.example.com", nil)
		if took := time.Since(start); took != resolve.LookupTimeout {
			t.Errorf("gave up after %v, want %v", took, resolve.LookupTimeout)
		}
		if !errors.Is(err, resolve.ErrNameTemporary) || !errors.Is(err, resolve.ErrNoName) {
			t.Errorf("error %v: want ErrNameTemporary and ErrNoName", err)
		}
		if want := "www.example.com: Temporary failure in name resolution"; err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("error %v: want it to end %q", err, want)
		}
	})
	if resolve.LookupTimeout > 6*time.Second {
		t.Errorf("LookupTimeout %v: the whole lookup must fail within 6s", resolve.LookupTimeout)
	}
}

// TestLookupUnreachableResolver: a resolver the host has no route to fails
// at once, as a temporary failure, not as a name that does not exist.
func TestLookupUnreachableResolver(t *testing.T) {
	r := newResolver(&fakeSystem{})
	r.Lookup = func(_ context.Context, _, host string) ([]netip.Addr, error) {
		return nil, &net.DNSError{Err: "dial udp 203.0.113.1:53: connect: network is unreachable", Name: host, IsTemporary: true}
	}
	_, err := r.Resolve(context.Background(), "www.example.com", nil)
	if !errors.Is(err, resolve.ErrNameTemporary) || strings.Contains(err.Error(), "spelling") {
		t.Errorf("error %v: want ErrNameTemporary, without advice on the spelling", err)
	}
	r = newResolver(&fakeSystem{})
	if _, err := r.Resolve(context.Background(), "no-such.lab", nil); !errors.Is(err, resolve.ErrNoName) || errors.Is(err, resolve.ErrNameTemporary) {
		t.Errorf("a name that does not exist: %v, want ErrNoName only", err)
	}
}
