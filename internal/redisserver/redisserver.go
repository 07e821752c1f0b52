// Package redisserver runs a real redis-server for the tests of the Redis
// modules (redisevents, examples/login): on a free loopback port, in a
// temporary directory, with persistence off, stopped when the test ends.
// It needs only the standard library, so the root module can hold it
// without depending on a Redis client.
package redisserver

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Server is one redis-server process, which Kill and Restart stop and
// start again on the same port.
type Server struct {
	// Addr is where it listens, 127.0.0.1:port.
	Addr string

	tb     testing.TB
	bin    string
	dir    string
	port   int
	proc   *os.Process // nil while stopped
	exited chan error  // receives the exit once proc ends
}

// startTimeout bounds how long redis-server may take to say it is ready.
const startTimeout = 15 * time.Second

// Start runs redis-server for tb and stops it when tb ends. Without the
// redis-server command, the test fails when CI=true, and is skipped with
// how to install it elsewhere.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis-server not found (CI=true): .ci/run installs it with apt-get install -y redis-server")
		}
		tb.Skipf("redis-server not found: install it to run the Redis tests (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)")
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	var last error
	for range 5 { // another process may take the free port first
		s.port, err = freePort()
		if err != nil {
			tb.Fatal(err)
		}
		if last = s.start(); last == nil {
			s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
			tb.Cleanup(s.Kill)
			return s
		}
	}
	tb.Fatalf("starting redis-server: %v", last)
	return nil
}

// Kill stops the server at once, as a crash would (SIGKILL), and waits
// for it to exit. Nothing is kept: persistence is off. It does nothing if
// the server is not running.
func (s *Server) Kill() {
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.exited
	s.proc = nil
}

// Restart starts the server again on its port, empty, after Kill.
func (s *Server) Restart() {
	s.tb.Helper()
	if s.proc != nil {
		s.tb.Fatal("redisserver: Restart while running; Kill first")
	}
	var err error
	for range 50 { // the port may still be held for a moment
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("restarting redis-server on %s: %v", s.Addr, err)
}

// start runs redis-server on s.port and returns once it accepts
// connections, as its log says.
func (s *Server) start() error {
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
		"--loglevel", "notice", "--databases", "1")
	out := &readyWriter{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-out.ready:
		s.proc, s.exited = cmd.Process, exited
		return nil
	case err := <-exited:
		return fmt.Errorf("redis-server exited (%v): %s", err, out.tail())
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("redis-server not ready after %s: %s", startTimeout, out.tail())
	}
}

// freePort is a loopback TCP port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// readyWriter takes redis-server's log, closes ready at the line that says
// it accepts connections, and keeps the last few KiB for errors.
type readyWriter struct {
	ready chan struct{}

	mu   sync.Mutex
	buf  []byte
	seen bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if !w.seen && bytes.Contains(w.buf, []byte("Ready to accept connections")) {
		w.seen = true
		close(w.ready)
	}
	if len(w.buf) > 8<<10 {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-4<<10:]...)
	}
	return len(p), nil
}

func (w *readyWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
