package verifytest_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestAccessTokenCreateAndFetch: Create answers 201 with the token and the
// values sent (TTL default 60 s); Fetch reads the same resource.
func TestAccessTokenCreateAndFetch(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	tok, err := c.AccessTokens.Create(ctx, svc, identity, &verify.CreateAccessTokenParams{FactorFriendlyName: "Ada's phone", TTL: 300 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.SID, "YK") || tok.Token.Reveal() == "" || tok.TTL != 5*time.Minute || tok.EntityIdentity != identity ||
		tok.FactorType != verify.FactorTypePush || tok.FactorFriendlyName != "Ada's phone" || tok.ServiceSID != svc ||
		tok.URL != srv.URL+"/v2/Services/"+svc+"/AccessTokens/"+tok.SID || tok.DateCreated.IsZero() {
		t.Fatalf("created token %+v", tok)
	}
	got, err := c.AccessTokens.Fetch(ctx, svc, tok.SID)
	if err != nil || got.SID != tok.SID || got.Token.Reveal() != tok.Token.Reveal() || got.TTL != tok.TTL || !got.DateCreated.Equal(tok.DateCreated) {
		t.Fatalf("fetch: %+v %v, want %+v", got, err, tok)
	}
	def, err := c.AccessTokens.Create(ctx, svc, identity, nil)
	if err != nil || def.TTL != time.Minute || def.FactorFriendlyName != "" || def.Token.Reveal() == tok.Token.Reveal() {
		t.Fatalf("default token: %+v %v, want TTL 60 and a new token", def, err)
	}
	_, err = c.AccessTokens.Fetch(ctx, svc, "YK00000000000000000000000000000000")
	wantAPIError(t, "unknown token", err, http.StatusNotFound, 20404)

	form := url.Values{"Identity": {identity}, "FactorType": {"totp"}}
	if status, body := raw(t, srv, "POST", servicePath(svc)+"/AccessTokens", form, srv.AccountSID(), srv.AuthToken()); status != 400 || code(body) != 60306 {
		t.Errorf("FactorType totp: %d %v, want 400 60306", status, body)
	}
	form = url.Values{"Identity": {identity}, "FactorType": {"push"}, "Ttl": {"59"}}
	if status, body := raw(t, srv, "POST", servicePath(svc)+"/AccessTokens", form, srv.AccountSID(), srv.AuthToken()); status != 400 || code(body) != 60306 {
		t.Errorf("Ttl 59: %d %v, want 400 60306", status, body)
	}
}

// TestDeviceEnrollsWithAnAccessToken: the backend makes a token with the
// SDK, the phone enrolls with it (creating and verifying its push factor
// without the account's credentials), and then answers challenges.
func TestDeviceEnrollsWithAnAccessToken(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	tok, err := c.AccessTokens.Create(ctx, svc, identity, &verify.CreateAccessTokenParams{FactorFriendlyName: "Ada's phone"})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := srv.NewDevice(svc, identity)
	if err != nil {
		t.Fatal(err)
	}
	if dev.FactorSID != "" {
		t.Fatalf("FactorSID %q before Enroll", dev.FactorSID)
	}
	if _, err := dev.Approve(ctx, "YC00000000000000000000000000000000"); err == nil || !strings.Contains(err.Error(), "Enroll") {
		t.Errorf("Approve before Enroll: %v, want an error that says to enroll", err)
	}
	if err := dev.Enroll(ctx, tok.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	f, err := c.Factors.Fetch(ctx, svc, identity, dev.FactorSID)
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != verify.FactorStatusVerified || f.FactorType != verify.FactorTypePush || f.FriendlyName != "Ada's phone" ||
		f.Config.AppID != "com.example.verifytest" || f.Config.SDKVersion != "verifytest-1.0" ||
		f.Config.NotificationPlatform != verify.NotificationPlatformFCM || len(f.Config.NotificationToken) != 64 {
		t.Fatalf("enrolled factor %+v", f)
	}
	if err := dev.Enroll(ctx, tok.Token.Reveal()); err == nil {
		t.Error("a second Enroll of the same device succeeded")
	}
	ch, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: dev.FactorSID, Details: &verify.Details{Message: "Log in?"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dev.Approve(ctx, ch.SID); err != nil || !got.Status.IsApproved() {
		t.Fatalf("approve: %v %v", got, err)
	}

	// Without a factor name on the token, the device's own name is used.
	plain, _ := c.AccessTokens.Create(ctx, svc, identity, nil)
	dev2, _ := srv.NewDevice(svc, identity)
	if err := dev2.Enroll(ctx, plain.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	if f, err := c.Factors.Fetch(ctx, svc, identity, dev2.FactorSID); err != nil || f.FriendlyName != "verifytest device" {
		t.Errorf("factor name without one on the token: %+v %v", f, err)
	}
}

// TestAccessTokenIsTiedToServiceAndIdentity: a token made for one identity
// cannot enroll a factor for another, nor on another service (401, 20003).
func TestAccessTokenIsTiedToServiceAndIdentity(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc, other := srv.ServiceSID(), srv.NewService()
	tokA, err := c.AccessTokens.Create(ctx, svc, "user-aaaa-0001", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ service, identity string }{{svc, "user-bbbb-0002"}, {other, "user-aaaa-0001"}} {
		dev, _ := srv.NewDevice(tc.service, tc.identity)
		err := dev.Enroll(ctx, tokA.Token.Reveal())
		if !errors.Is(err, verify.ErrUnauthorized) {
			t.Fatalf("token for user A used for %s on %s: %v, want ErrUnauthorized", tc.identity, tc.service, err)
		}
		wantAPIError(t, "token of another identity", err, http.StatusUnauthorized, 20003)
		if dev.FactorSID != "" {
			t.Errorf("refused device has factor %s", dev.FactorSID)
		}
	}
	for _, err := range c.Entities.List(ctx, svc, nil) {
		t.Fatalf("refused enrollments created an entity (%v)", err)
	}
	devA, _ := srv.NewDevice(svc, "user-aaaa-0001")
	if err := devA.Enroll(ctx, tokA.Token.Reveal()); err != nil {
		t.Fatalf("the right identity with the token: %v", err)
	}
}

// TestAccessTokenIsSingleUse: once a factor was created with a token, the
// token enrolls nothing more.
func TestAccessTokenIsSingleUse(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	tok, _ := c.AccessTokens.Create(ctx, srv.ServiceSID(), identity, nil)
	first, _ := srv.NewDevice(srv.ServiceSID(), identity)
	if err := first.Enroll(ctx, tok.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	second, _ := srv.NewDevice(srv.ServiceSID(), identity)
	err := second.Enroll(ctx, tok.Token.Reveal())
	wantAPIError(t, "second enrollment with one token", err, http.StatusUnauthorized, 20003)
	if !strings.Contains(err.Error(), "already used") {
		t.Errorf("error %q does not say the token was used", err)
	}
}

// TestAccessTokenExpiresOnTheFakesClock: a token is refused once its TTL
// has passed on the server's clock, and accepted just before.
func TestAccessTokenExpiresOnTheFakesClock(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0) // a still clock: only Advance moves it
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(func() time.Time { return start })})
	short, _ := c.AccessTokens.Create(ctx, srv.ServiceSID(), identity, &verify.CreateAccessTokenParams{TTL: 60 * time.Second})
	long, _ := c.AccessTokens.Create(ctx, srv.ServiceSID(), identity, &verify.CreateAccessTokenParams{TTL: 300 * time.Second})
	srv.Advance(61 * time.Second)
	dev, _ := srv.NewDevice(srv.ServiceSID(), identity)
	err := dev.Enroll(ctx, short.Token.Reveal())
	wantAPIError(t, "expired token", err, http.StatusUnauthorized, 20003)
	if !strings.Contains(err.Error(), "expired") {
		t.Errorf("error %q does not say the token expired", err)
	}
	if _, err := c.Entities.Fetch(ctx, srv.ServiceSID(), identity); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("the refused enrollment left an entity behind: %v", err)
	}
	srv.Advance(238 * time.Second) // 299 s after creation
	if err := dev.Enroll(ctx, long.Token.Reveal()); err != nil {
		t.Fatalf("token 1 s before its TTL: %v", err)
	}
}

// TestSDKCredentialsReachOnlyTheirRoutes: an access token only creates a
// push factor; a factor's JWT only reaches its own factor and challenges;
// garbage is refused. Each refusal is 401 with 20003.
func TestSDKCredentialsReachOnlyTheirRoutes(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	tok, _ := c.AccessTokens.Create(ctx, svc, identity, nil)
	ent := servicePath(svc) + "/Entities/" + identity
	for name, req := range map[string]struct {
		method, path string
		form         url.Values
	}{
		"list factors":    {"GET", ent + "/Factors", nil},
		"list challenges": {"GET", ent + "/Challenges", nil},
		"create a TOTP":   {"POST", ent + "/Factors", url.Values{"FactorType": {"totp"}, "FriendlyName": {"x"}}},
		"make a token":    {"POST", servicePath(svc) + "/AccessTokens", url.Values{"Identity": {identity}, "FactorType": {"push"}}},
	} {
		if status, body := raw(t, srv, req.method, req.path, req.form, "token", tok.Token.Reveal()); status != 401 || code(body) != 20003 {
			t.Errorf("access token to %s: %d %v, want 401 20003", name, status, body)
		}
	}
	if status, _ := raw(t, srv, "GET", ent+"/Factors/YF00000000000000000000000000000000", nil, "token", "not.a.jwt"); status != 401 {
		t.Errorf("garbage JWT: %d, want 401", status)
	}

	// Two phones of one user: each reaches only its own challenges.
	a, _ := srv.NewPushDevice(svc, identity)
	b, _ := srv.NewPushDevice(svc, identity)
	chB, _ := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: b.FactorSID, Details: &verify.Details{Message: "b?"}})
	if _, err := a.Approve(ctx, chB.SID); !errors.Is(err, verify.ErrUnauthorized) {
		t.Errorf("phone A answering phone B's challenge: %v, want ErrUnauthorized", err)
	}
	if got, err := b.Approve(ctx, chB.SID); err != nil || !got.Status.IsApproved() {
		t.Errorf("phone B answering its challenge: %v %v", got, err)
	}

	// A phone whose factor was deleted is refused.
	if err := c.Factors.Delete(ctx, svc, identity, a.FactorSID); err != nil {
		t.Fatal(err)
	}
	chA, _ := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: b.FactorSID, Details: &verify.Details{Message: "b?"}})
	if _, err := a.Approve(ctx, chA.SID); !errors.Is(err, verify.ErrUnauthorized) {
		t.Errorf("phone with a deleted factor: %v, want ErrUnauthorized", err)
	}
}
