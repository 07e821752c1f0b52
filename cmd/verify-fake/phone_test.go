package main

import (
	"context"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestPhoneForgetsChallengesThatLeftPending: the phone remembers a pending
// challenge until it answers it, and forgets one that someone else
// answered or that expired, so a long-running fake does not grow.
func TestPhoneForgetsChallengesThatLeftPending(t *testing.T) {
	ctx := context.Background()
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	const identity = "user-0001-phone"
	dev, err := srv.NewPushDevice(srv.ServiceSID(), identity)
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{client: client, service: srv.ServiceSID(), dev: dev, answer: "approve", delay: time.Hour, seen: map[string]time.Time{}}
	var sids []string
	for range 3 {
		ch, err := client.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{
			FactorSID: dev.FactorSID, Details: &verify.Details{Message: "Log in?"}})
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, ch.SID)
	}
	p.poll(ctx)
	if len(p.seen) != 3 {
		t.Fatalf("after the first poll the phone remembers %d challenges, want the 3 pending", len(p.seen))
	}
	if _, err := dev.Deny(ctx, sids[0]); err != nil { // answered elsewhere
		t.Fatal(err)
	}
	p.poll(ctx)
	if _, ok := p.seen[sids[0]]; ok || len(p.seen) != 2 {
		t.Errorf("after one was denied the phone remembers %v, want the 2 still pending", p.seen)
	}
	srv.Advance(6 * time.Minute) // the others expire
	p.poll(ctx)
	if len(p.seen) != 0 {
		t.Errorf("after the rest expired the phone remembers %v, want none", p.seen)
	}
}
