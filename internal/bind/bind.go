// Package bind opens the TCP listener of the repository's programs that
// take an -addr flag (cmd/verify-fake, examples/login), so that a busy
// port ends each of them with the same message, naming an address to pass
// instead.
package bind

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// TCP listens on addr (host:port). When the port is in use, the error
// says so and names the next port: "127.0.0.1:4010 is in use; pass -addr
// 127.0.0.1:4011" (-addr HOST:0, any free port, when addr has no next
// port); other errors say which address failed.
func TCP(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is in use; pass -addr %s", addr, next(addr))
	}
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return l, nil
}

// next is addr with the port after its own, or with port 0 (any free
// port) when there is none.
func next(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return net.JoinHostPort(addr, "0")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n >= 65535 {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}
