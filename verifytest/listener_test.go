package verifytest_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/verifykit/verify-go/verifytest"
)

// TestWithListener: the server serves on the listener it is given, and
// closes it on Close.
func TestWithListener(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := verifytest.NewServer(verifytest.WithListener(l))
	if srv.URL != "http://"+l.Addr().String() {
		t.Errorf("URL %s, want http://%s", srv.URL, l.Addr())
	}
	c := srv.Client()
	if _, err := c.Entities.Create(ctx, srv.ServiceSID(), identity, nil); err != nil {
		t.Errorf("a call through the listener: %v", err)
	}
	c.CloseIdleConnections()
	srv.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// otherAddr is a listener that reports another address than its own.
type otherAddr struct {
	net.Listener
	addr net.Addr
}

func (l otherAddr) Addr() net.Addr { return l.addr }

// unixAddr is a non-TCP address.
type unixAddr struct{}

func (unixAddr) Network() string { return "unix" }
func (unixAddr) String() string  { return "/tmp/verifytest.sock" }

// TestWithListenerRefusesWhatIsNotLoopback: a listener on a public
// address, or not on TCP, makes NewServer panic (as WithAddr does), and
// the listener, owned by the server from then on, is closed.
func TestWithListenerRefusesWhatIsNotLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		what string
		addr net.Addr
		opts []verifytest.Option
	}{
		{"a public address", &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4010}, nil},
		{"every interface", &net.TCPAddr{IP: net.IPv4zero, Port: 4010}, nil},
		{"a unix socket", unixAddr{}, nil},
		{"WithAddr as well", nil, []verifytest.Option{verifytest.WithAddr("127.0.0.1:0")}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var l net.Listener = inner
			if tc.addr != nil {
				l = otherAddr{Listener: inner, addr: tc.addr}
			}
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				srv := verifytest.NewServer(append(tc.opts, verifytest.WithListener(l))...)
				srv.Close()
				return "no panic"
			}()
			if !strings.HasPrefix(msg, "verifytest: ") || !strings.Contains(msg, "WithListener") {
				t.Errorf("NewServer: %s, want a verifytest panic about WithListener", msg)
			}
			if _, err := inner.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Accept after the refusal: %v, want net.ErrClosed", err)
			}
		})
	}
}
