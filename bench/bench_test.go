package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	twilio "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	twverify "github.com/twilio/twilio-go/rest/verify/v2"

	verify "github.com/verifykit/verify-go"
)

// apiAddr and adminAddr are the server process's listeners.
var apiAddr, adminAddr string

func TestMain(m *testing.M) {
	if os.Getenv("VERIFY_BENCH_SERVER") != "" {
		if err := serve("../testdata"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// The server gets the last CPU to itself when taskset exists and the
	// caller pinned this process elsewhere (see the README's command).
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if cpu := os.Getenv("VERIFY_BENCH_SERVER_CPU"); cpu != "" {
		if taskset, err := exec.LookPath("taskset"); err == nil {
			cmd = exec.Command(taskset, "-c", cpu, os.Args[0], "-test.run=^$")
		}
	}
	cmd.Env = append(os.Environ(), "VERIFY_BENCH_SERVER=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting the server process:", err)
		os.Exit(1)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if _, scanErr := fmt.Sscan(line, &apiAddr, &adminAddr); err != nil || scanErr != nil {
		fmt.Fprintln(os.Stderr, "server process did not start:", err, scanErr)
		os.Exit(1)
	}
	code := m.Run()
	stdin.Close()
	_ = cmd.Wait()
	os.Exit(code)
}

// cpuTime is the CPU time (user + system) this process has used, in ns:
// the client's cost without the server's, which runs in another process.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// newConns reads (and with reset, zeroes) the server's new-connection count.
func newConns(reset bool) int {
	method := http.MethodGet
	if reset {
		method = http.MethodPost
	}
	req, _ := http.NewRequest(method, "http://"+adminAddr, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n, _ := strconv.Atoi(string(b))
	return n
}

// contender is one client doing the benchmark's operations.
type contender struct {
	name         string
	create       func(context.Context) error
	fetch        func(context.Context) error
	fetchMissing func(context.Context) error // the server answers 404
	notFound     func(error) bool            // err is the client's 404 (code 20404)
	update       func(context.Context) error
	list         func(context.Context) (int, error)
	createFactor func(context.Context) (secret string, err error) // a TOTP factor; returns its binding secret
	listFactors  func(context.Context) (int, error)
	sendCode     func(context.Context) error                        // an SMS verification of phone
	checkCode    func(context.Context) (approved bool, err error)   // its code, answered approved
	passkeyLogin func(context.Context) (identity string, err error) // a usernameless challenge, then its approval
	close        func()                                             // closes idle connections
}

func floorContender() contender {
	f := newFloorClient("http://" + apiAddr)
	return contender{name: "floor",
		create:       func(ctx context.Context) error { _, err := f.create(ctx); return err },
		fetch:        func(ctx context.Context) error { _, err := f.fetch(ctx); return err },
		fetchMissing: func(ctx context.Context) error { _, err := f.fetchMissing(ctx); return err },
		notFound: func(err error) bool {
			var e *floorError
			return errors.As(err, &e) && e.Status == http.StatusNotFound && e.Code == 20404
		},
		update: func(ctx context.Context) error { _, err := f.update(ctx); return err },
		list:   f.list,
		createFactor: func(ctx context.Context) (string, error) {
			nf, err := f.createFactor(ctx)
			return nf.Binding.Secret, err
		},
		listFactors: f.listFactors,
		sendCode:    func(ctx context.Context) error { _, err := f.sendCode(ctx); return err },
		checkCode: func(ctx context.Context) (bool, error) {
			c, err := f.checkCode(ctx)
			return c.Status == "approved", err
		},
		passkeyLogin: f.passkeyLogin,
		close:        f.hc.CloseIdleConnections,
	}
}

func verifyContender() contender {
	c, err := verify.NewClient(verify.WithCredentials(accountSID, authToken), verify.WithBaseURL("http://"+apiAddr))
	if err != nil {
		panic(err)
	}
	return contender{name: "verifygo",
		create: func(ctx context.Context) error {
			_, err := c.Challenges.Create(ctx, serviceSID, identity, &verify.CreateChallengeParams{
				FactorSID: factorSID,
				Details: &verify.Details{Message: "Log in to Example Corp?",
					Fields: []verify.Field{{Label: "Location", Value: "Lyon, FR"}, {Label: "IP", Value: "203.0.113.7"}}},
				HiddenDetails: verify.NewSecretMap(map[string]string{"session": "web-42"}),
			})
			return err
		},
		fetch: func(ctx context.Context) error {
			_, err := c.Challenges.Fetch(ctx, serviceSID, identity, sid)
			return err
		},
		fetchMissing: func(ctx context.Context) error {
			_, err := c.Challenges.Fetch(ctx, serviceSID, identity, missingSID)
			return err
		},
		notFound: func(err error) bool {
			var e *verify.APIError
			return errors.Is(err, verify.ErrNotFound) && errors.As(err, &e) && e.Status == http.StatusNotFound && e.Code == 20404
		},
		update: func(ctx context.Context) error {
			_, err := c.Challenges.Update(ctx, serviceSID, identity, sid, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret("123456")})
			return err
		},
		list: func(ctx context.Context) (int, error) {
			n := 0
			for _, err := range c.Challenges.List(ctx, serviceSID, identity, &verify.ListChallengesParams{ListParams: verify.ListParams{PageSize: listPageSize}}) {
				if err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		},
		createFactor: func(ctx context.Context) (string, error) {
			nf, err := c.Factors.CreateTOTP(ctx, serviceSID, identity, &verify.CreateTOTPFactorParams{FriendlyName: friendlyName})
			if err != nil {
				return "", err
			}
			return nf.Binding.Secret.Reveal(), nil
		},
		listFactors: func(ctx context.Context) (int, error) {
			n := 0
			for _, err := range c.Factors.List(ctx, serviceSID, identity, &verify.ListParams{PageSize: listPageSize}) {
				if err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		},
		sendCode: func(ctx context.Context) error {
			_, err := c.Verifications.Create(ctx, serviceSID, &verify.CreateVerificationParams{To: phone, Channel: verify.ChannelSMS})
			return err
		},
		checkCode: func(ctx context.Context) (bool, error) {
			chk, err := c.VerificationChecks.Create(ctx, serviceSID, &verify.CheckVerificationParams{To: phone, Code: verify.NewSecret(smsCode)})
			if err != nil {
				return false, err
			}
			return chk.Approved(), nil
		},
		passkeyLogin: func(ctx context.Context) (string, error) {
			if _, err := c.Passkeys.CreateChallenge(ctx, serviceSID, nil); err != nil {
				return "", err
			}
			ch, err := c.Passkeys.ApproveChallenge(ctx, serviceSID, passkeyAssertion)
			if err != nil {
				return "", err
			}
			id, _ := ch.SignedIn()
			return id, nil
		},
		close: c.CloseIdleConnections,
	}
}

// loopback sends twilio-go's requests for its fixed host to a local server at addr.
type loopback struct {
	addr string
	next http.RoundTripper
}

func (l loopback) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host = "http", l.addr
	return l.next.RoundTrip(r)
}

// newTwilioGo is a twilio-go client whose requests go to the server at addr.
func newTwilioGo(addr string) *twilio.RestClient {
	tc := &twclient.Client{
		Credentials: twclient.NewCredentials(accountSID, authToken),
		HTTPClient: &http.Client{
			Transport:     loopback{addr, http.DefaultTransport},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       10 * time.Second,
		},
	}
	tc.SetAccountSid(accountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: tc})
}

func twilioContender() contender {
	c := newTwilioGo(apiAddr)
	return contender{name: "twiliogo",
		create: func(context.Context) error {
			p := &twverify.CreateChallengeParams{}
			p.SetFactorSid(factorSID)
			p.SetDetailsMessage("Log in to Example Corp?")
			p.SetDetailsFields([]interface{}{
				map[string]interface{}{"label": "Location", "value": "Lyon, FR"},
				map[string]interface{}{"label": "IP", "value": "203.0.113.7"},
			})
			p.SetHiddenDetails(map[string]interface{}{"session": "web-42"})
			_, err := c.VerifyV2.CreateChallenge(serviceSID, identity, p)
			return err
		},
		fetch: func(context.Context) error {
			_, err := c.VerifyV2.FetchChallenge(serviceSID, identity, sid)
			return err
		},
		fetchMissing: func(context.Context) error {
			_, err := c.VerifyV2.FetchChallenge(serviceSID, identity, missingSID)
			return err
		},
		notFound: func(err error) bool {
			var e *twclient.TwilioRestError
			return errors.As(err, &e) && e.Status == http.StatusNotFound && e.Code == 20404
		},
		update: func(context.Context) error {
			p := &twverify.UpdateChallengeParams{}
			p.SetAuthPayload("123456")
			_, err := c.VerifyV2.UpdateChallenge(serviceSID, identity, sid, p)
			return err
		},
		list: func(context.Context) (int, error) {
			p := &twverify.ListChallengeParams{}
			p.SetPageSize(listPageSize)
			all, err := c.VerifyV2.ListChallenge(serviceSID, identity, p)
			return len(all), err
		},
		createFactor: func(context.Context) (string, error) {
			p := &twverify.CreateNewFactorParams{}
			p.SetFriendlyName(friendlyName)
			p.SetFactorType("totp")
			nf, err := c.VerifyV2.CreateNewFactor(serviceSID, identity, p)
			if err != nil {
				return "", err
			}
			// Binding is a *interface{} holding the decoded JSON object.
			if nf.Binding != nil {
				if b, ok := (*nf.Binding).(map[string]interface{}); ok {
					secret, _ := b["secret"].(string)
					return secret, nil
				}
			}
			return "", nil
		},
		listFactors: func(context.Context) (int, error) {
			p := &twverify.ListFactorParams{}
			p.SetPageSize(listPageSize)
			all, err := c.VerifyV2.ListFactor(serviceSID, identity, p)
			return len(all), err
		},
		sendCode: func(context.Context) error {
			p := &twverify.CreateVerificationParams{}
			p.SetTo(phone)
			p.SetChannel("sms")
			_, err := c.VerifyV2.CreateVerification(serviceSID, p)
			return err
		},
		checkCode: func(context.Context) (bool, error) {
			p := &twverify.CreateVerificationCheckParams{}
			p.SetTo(phone)
			p.SetCode(smsCode)
			chk, err := c.VerifyV2.CreateVerificationCheck(serviceSID, p)
			if err != nil {
				return false, err
			}
			return chk.Status != nil && *chk.Status == "approved", nil
		},
		passkeyLogin: func(context.Context) (string, error) {
			if _, err := c.VerifyV2.CreateChallengePasskeys(serviceSID,
				(&twverify.CreateChallengePasskeysParams{}).SetCreatePasskeysChallengeRequest(twverify.CreatePasskeysChallengeRequest{})); err != nil {
				return "", err
			}
			// twilio-go takes the assertion as its own struct: decode the
			// browser's JSON into it first.
			var a twverify.ApprovePasskeysChallengeRequest
			if err := json.Unmarshal(passkeyAssertion, &a); err != nil {
				return "", err
			}
			ch, err := c.VerifyV2.UpdateChallengePasskeys(serviceSID, (&twverify.UpdateChallengePasskeysParams{}).SetApprovePasskeysChallengeRequest(a))
			if err != nil || ch.Identity == nil {
				return "", err
			}
			return *ch.Identity, nil
		},
		close: http.DefaultTransport.(*http.Transport).CloseIdleConnections,
	}
}

func contenders() []func() contender {
	return []func() contender{floorContender, verifyContender, twilioContender}
}

func benchOp(b *testing.B, op func(contender) func(context.Context) error) {
	for _, mk := range contenders() {
		c := mk()
		b.Run("client="+c.name, func(b *testing.B) {
			ctx := context.Background()
			run := op(c)
			if err := run(ctx); err != nil { // warm the connection
				b.Fatal(err)
			}
			b.ReportAllocs()
			newConns(true)
			cpu := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := run(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(newConns(false))/float64(b.N), "newconns/op")
		})
	}
}

func BenchmarkCreate(b *testing.B) {
	benchOp(b, func(c contender) func(context.Context) error { return c.create })
}

func BenchmarkFetch(b *testing.B) {
	benchOp(b, func(c contender) func(context.Context) error { return c.fetch })
}

func BenchmarkUpdate(b *testing.B) {
	benchOp(b, func(c contender) func(context.Context) error { return c.update })
}

// BenchmarkList1000 visits 1,000 challenges in pages of 100.
func BenchmarkList1000(b *testing.B) {
	benchOp(b, func(c contender) func(context.Context) error {
		return func(ctx context.Context) error {
			n, err := c.list(ctx)
			if err == nil && n != listTotal {
				err = fmt.Errorf("listed %d challenges, want %d", n, listTotal)
			}
			return err
		}
	})
}

// BenchmarkFactorCreate enrolls a TOTP factor with only its name.
func BenchmarkFactorCreate(b *testing.B) {
	benchOp(b, func(c contender) func(context.Context) error {
		return func(ctx context.Context) error { _, err := c.createFactor(ctx); return err }
	})
}

// BenchmarkFactorList1000 visits 1,000 factors in pages of 100.
func BenchmarkFactorList1000(b *testing.B) {
	benchOp(b, func(c contender) func(context.Context) error {
		return func(ctx context.Context) error {
			n, err := c.listFactors(ctx)
			if err == nil && n != listTotal {
				err = fmt.Errorf("listed %d factors, want %d", n, listTotal)
			}
			return err
		}
	})
}

// BenchmarkVerificationCreate starts an SMS verification: the first half
// of a code login.
func BenchmarkVerificationCreate(b *testing.B) {
	benchOp(b, func(c contender) func(context.Context) error { return c.sendCode })
}

// BenchmarkVerificationCheck checks the code, answered approved: the second half.
func BenchmarkVerificationCheck(b *testing.B) {
	benchOp(b, func(c contender) func(context.Context) error {
		return func(ctx context.Context) error {
			approved, err := c.checkCode(ctx)
			if err == nil && !approved {
				err = errors.New("the check was not approved")
			}
			return err
		}
	})
}

// BenchmarkPasskeyLogin creates a usernameless passkey challenge and
// approves it with the browser's assertion: a whole passkey login.
func BenchmarkPasskeyLogin(b *testing.B) {
	benchOp(b, func(c contender) func(context.Context) error {
		return func(ctx context.Context) error {
			id, err := c.passkeyLogin(ctx)
			if err == nil && id != identity {
				err = fmt.Errorf("signed in %q, want %q", id, identity)
			}
			return err
		}
	})
}

// BenchmarkBurst is 64 goroutines × 50 Fetches sharing one fresh client per
// iteration; it reports the new TCP connections the server saw per burst.
func BenchmarkBurst(b *testing.B) { benchBurst(b, 0) }

// BenchmarkBurst404s is BenchmarkBurst with every tenth Fetch (320 of the
// 3,200) asking for a challenge the server answers 404 with Twilio's error
// JSON. Each 404 must be the client's not-found error; any other error
// fails. A client that drops a connection on an error answer opens more.
func BenchmarkBurst404s(b *testing.B) { benchBurst(b, 10) }

// benchBurst runs the bursts; with missingEvery > 0, every missingEvery-th
// Fetch of the burst is for the missing challenge.
func benchBurst(b *testing.B, missingEvery int) {
	const goroutines, each = 64, 50
	wantMissing := int64(0)
	if missingEvery > 0 {
		wantMissing = goroutines * each / int64(missingEvery)
	}
	for _, mk := range contenders() {
		name := mk().name
		b.Run("client="+name, func(b *testing.B) {
			b.ReportAllocs()
			conns := 0
			var cpu int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				c := mk()
				newConns(true)
				var missing atomic.Int64
				start := cpuTime()
				b.StartTimer()
				var wg sync.WaitGroup
				errs := make(chan error, goroutines)
				for g := 0; g < goroutines; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for j := 0; j < each; j++ {
							if missingEvery > 0 && (g*each+j)%missingEvery == 0 {
								err := c.fetchMissing(context.Background())
								if !c.notFound(err) {
									errs <- fmt.Errorf("fetching the missing challenge: want a 404 (20404), got %v", err)
									return
								}
								missing.Add(1)
								continue
							}
							if err := c.fetch(context.Background()); err != nil {
								errs <- err
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				cpu += cpuTime() - start
				close(errs)
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
				if n := missing.Load(); n != wantMissing {
					b.Fatalf("%d Fetches were answered 404, want %d", n, wantMissing)
				}
				conns += newConns(false)
				c.close()
				b.StartTimer()
			}
			b.ReportMetric(float64(conns)/float64(b.N), "newconns/op")
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// TestContendersAgree checks that every contender really does the work the
// benchmarks time.
func TestContendersAgree(t *testing.T) {
	ctx := context.Background()
	for _, mk := range contenders() {
		c := mk()
		for name, op := range map[string]func(context.Context) error{"create": c.create, "fetch": c.fetch, "update": c.update} {
			if err := op(ctx); err != nil {
				t.Errorf("%s %s: %v", c.name, name, err)
			}
		}
		if n, err := c.list(ctx); err != nil || n != listTotal {
			t.Errorf("%s list: %d, %v", c.name, n, err)
		}
		if err := c.fetchMissing(ctx); !c.notFound(err) {
			t.Errorf("%s fetch of a missing challenge: %v, want its 404 (code 20404)", c.name, err)
		}
		if err := c.fetch(ctx); c.notFound(err) {
			t.Errorf("%s: notFound(%v) after a fetch that found its challenge", c.name, err)
		}
		if secret, err := c.createFactor(ctx); err != nil || secret != totpSecret {
			t.Errorf("%s create factor: binding secret %q, %v; want %q", c.name, secret, err, totpSecret)
		}
		if n, err := c.listFactors(ctx); err != nil || n != listTotal {
			t.Errorf("%s list factors: %d, %v", c.name, n, err)
		}
		if err := c.sendCode(ctx); err != nil {
			t.Errorf("%s send code: %v", c.name, err)
		}
		if approved, err := c.checkCode(ctx); err != nil || !approved {
			t.Errorf("%s check code: approved %v, %v", c.name, approved, err)
		}
		if id, err := c.passkeyLogin(ctx); err != nil || id != identity {
			t.Errorf("%s passkey login: signed in %q, %v; want %q", c.name, id, err, identity)
		}
	}
	if !strings.Contains(apiAddr, "127.0.0.1") {
		t.Errorf("server on %s, want loopback", apiAddr)
	}
}
