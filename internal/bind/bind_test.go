package bind

import (
	"net"
	"strconv"
	"testing"
)

// TestBusyPortNamesTheNext: a port in use is an error naming the next
// port on the same host; the listener is not opened twice.
func TestBusyPortNamesTheNext(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	addr := "127.0.0.1:" + strconv.Itoa(port)
	l, err := TCP(addr)
	want := addr + " is in use; pass -addr 127.0.0.1:" + strconv.Itoa(port+1)
	if l != nil || err == nil || err.Error() != want {
		t.Errorf("TCP(%s) on a busy port: %v, %v; want the error %q", addr, l, err, want)
	}
}

// TestListens: a free address gives an open listener there.
func TestListens(t *testing.T) {
	l, err := TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dialling the listener: %v", err)
	}
	c.Close()
}

func TestNext(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:4010":  "127.0.0.1:4011",
		":8080":           ":8081",
		"localhost:65535": "localhost:0",
		"[::1]:8080":      "[::1]:8081",
		"localhost:http":  "localhost:0",
	} {
		if got := next(addr); got != want {
			t.Errorf("next(%q) = %q, want %q", addr, got, want)
		}
	}
}
