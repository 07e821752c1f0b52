package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	verify "github.com/verifykit/verify-go"
)

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" { // a child started by a test, to run the command itself
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

func TestReportCSVAndSummary(t *testing.T) {
	ctx := context.Background()
	client, service, identity, cleanup, err := seedDemo(ctx, 12)
	defer cleanup()
	if err != nil {
		t.Fatal(err)
	}
	var out, progress bytes.Buffer
	o := options{service: service, identity: identity, format: "csv", progressEvery: 5,
		params: verify.ListChallengesParams{ListParams: verify.ListParams{PageSize: 5}}}
	if err := run(ctx, client, o, &out, &progress); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 13 || rows[0][0] != "sid" || !strings.HasPrefix(rows[1][0], "YC") {
		t.Fatalf("csv has %d rows: %v", len(rows), rows[:min(len(rows), 2)])
	}
	status := map[string]int{}
	for _, r := range rows[1:] {
		status[r[3]]++
	}
	if status["approved"] != 3 || status["denied"] != 3 || status["expired"] != 6 {
		t.Errorf("statuses %v, want 3 approved, 3 denied, 6 expired", status)
	}
	if !strings.Contains(progress.String(), "report: 10 challenges") || !strings.Contains(progress.String(), "done, 12") {
		t.Errorf("progress:\n%s", progress.String())
	}

	out.Reset()
	o.format, o.params.Status = "summary", verify.StatusExpired
	if err := run(ctx, client, o, &out, &progress); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []string{"push", "totp", "expired", "total"} {
		if !strings.Contains(table, want) {
			t.Errorf("summary lacks %q:\n%s", want, table)
		}
	}
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if last := strings.Fields(lines[len(lines)-1]); len(last) != 2 || last[0] != "all" || last[1] != "6" {
		t.Errorf("summary total row %q, want all 6:\n%s", last, table)
	}
}
