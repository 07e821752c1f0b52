package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// built is the login command, built once with go build from
// ../examples/login (its own module) for every test; TestMain removes it.
// The tests run the command as it ships, flags, cookies and all: package
// main cannot be imported.
var built struct {
	once      sync.Once
	dir, path string
	err       error
}

// loginBinary builds examples/login once and returns the command's path.
func loginBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "e2e-login-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "login")
		cmd := exec.Command("go", "build", "-o", built.path, ".")
		cmd.Dir = filepath.Join("..", "examples", "login")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build in %s: %v\n%s", cmd.Dir, err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// removeBuilt removes the built command, if any.
func removeBuilt() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// user is the one account of a login server: a name, a password, and the
// second factors it was started with, which the fake holds.
type user struct {
	name, password, identity string
	phone                    *verifytest.Device     // its push factor; nil: none
	totp                     *verifytest.TOTPFactor // its authenticator app; nil: none
	number                   string                 // its phone number on record, for codes by SMS; "": none
}

// userOptions say which factors a user starts with.
type userOptions struct {
	push, totp, sms bool
	// passkeys: the server serves passkeys (-passkey-origin) and the
	// browser reaches it as localhost, a name WebAuthn takes as a relying
	// party ID (an IP address it refuses).
	passkeys bool
}

// server is the built login command running against an in-process
// verifytest fake, whose webhooks go to the command's /hooks/verify.
type server struct {
	t    *testing.T
	fake *verifytest.Server
	look *verify.Client // the test's own view of the fake
	base string         // the login server, http://127.0.0.1:port
	user *user
	log  *lockedBuffer // the command's stderr
}

// startServer starts a fake Verify with a user named name who has the
// factors opts asks for, and the login command for that user.
func startServer(t *testing.T, name string, opts userOptions) *server {
	t.Helper()
	bin := loginBinary(t)
	fake := verifytest.NewServer()
	s := &server{t: t, fake: fake, look: fake.Client(), log: &lockedBuffer{}}
	t.Cleanup(func() {
		s.look.CloseIdleConnections()
		fake.Close()
	})
	u := &user{name: name, password: "correct horse " + name, identity: "user-0001-" + name}
	var err error
	if opts.push {
		if u.phone, err = fake.NewPushDevice(fake.ServiceSID(), u.identity); err != nil {
			t.Fatal(err)
		}
	}
	if opts.totp {
		if u.totp, err = fake.NewTOTPFactor(fake.ServiceSID(), u.identity, nil); err != nil {
			t.Fatal(err)
		}
	}
	if opts.sms {
		u.number = "+15017122661"
	}
	s.user = u

	env := []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + t.TempDir(),
		"TWILIO_ACCOUNT_SID=" + fake.AccountSID(), "TWILIO_AUTH_TOKEN=" + fake.AuthToken(),
		"VERIFY_SERVICE_SID=" + fake.ServiceSID(), "VERIFY_IDENTITY=" + u.identity}
	if u.phone != nil {
		env = append(env, "VERIFY_PUSH_FACTOR_SID="+u.phone.FactorSID)
	}
	if u.totp != nil {
		env = append(env, "VERIFY_TOTP_FACTOR_SID="+u.totp.SID)
	}
	addr, origin := "127.0.0.1:0", ""
	if opts.passkeys { // the origin names the port, so it is chosen first
		port := freePort(t)
		addr, origin = "127.0.0.1:"+port, "http://localhost:"+port
	}
	args := []string{"-addr", addr, "-base-url", fake.URL, "-user", u.name, "-password", u.password}
	if origin != "" {
		args = append(args, "-passkey-origin", origin)
	}
	if u.number != "" {
		args = append(args, "-phone", u.number)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stderr = s.log // exec copies and Wait waits for the copy
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("the login server's log:\n%s", s.log)
		}
	})
	bound, err := s.log.waitFor(listening, 20*time.Second)
	if err != nil {
		t.Fatalf("the login server did not start: %v\n%s", err, s.log)
	}
	s.base = "http://" + bound
	if origin != "" {
		s.base = origin
	}
	if _, err := fake.WebhookURL(s.base + "/hooks/verify"); err != nil {
		t.Fatal(err)
	}
	return s
}

// freePort is a loopback TCP port nothing listens on, as far as can be
// known: the kernel's pick, closed again.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// listening finds the address the login command prints once it listens.
var listening = regexp.MustCompile(`listening on http://([0-9.:]+)`)

// pendingPush waits for the push challenge the login server sent the
// user's phone, and returns its SID.
func (s *server) pendingPush() string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	for {
		for ch, err := range s.look.Challenges.List(ctx, s.fake.ServiceSID(), s.user.identity,
			&verify.ListChallengesParams{Status: verify.StatusPending, FactorSID: s.user.phone.FactorSID}) {
			if err != nil {
				s.t.Fatalf("listing the challenges: %v", err)
			}
			return ch.SID
		}
		select {
		case <-ctx.Done():
			s.t.Fatal("no push challenge was sent to the phone")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// lockedBuffer is a log that goroutines may write while a test reads it.
type lockedBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{} // closed and replaced on every write
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if l.wrote != nil {
		close(l.wrote)
		l.wrote = nil
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until the log matches re and returns the first submatch.
func (l *lockedBuffer) waitFor(re *regexp.Regexp, limit time.Duration) (string, error) {
	timeout := time.After(limit)
	for {
		l.mu.Lock()
		m := re.FindStringSubmatch(l.b.String())
		if l.wrote == nil {
			l.wrote = make(chan struct{})
		}
		wrote := l.wrote
		l.mu.Unlock()
		if m != nil {
			return m[1], nil
		}
		select {
		case <-wrote:
		case <-timeout:
			return "", fmt.Errorf("nothing matched %s in %s", re, limit)
		}
	}
}
