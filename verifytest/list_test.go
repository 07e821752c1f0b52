package verifytest_test

import (
	"net/http"
	"strconv"
	"testing"
)

// TestHugePagesAreRefused: a Page or PageToken so large that its offset
// overflows (or nearly) is a 400 with 60306 on every list, not a panic, a
// dropped connection or a page of nonsense links; a large page within the
// bound is just empty.
func TestHugePagesAreRefused(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	if _, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WebhookURL("http://127.0.0.1:1/hooks"); err != nil {
		t.Fatal(err)
	}
	svc := servicePath(srv.ServiceSID())
	lists := map[string]string{
		"challenges": svc + "/Entities/" + identity + "/Challenges",
		"entities":   svc + "/Entities",
		"factors":    svc + "/Entities/" + identity + "/Factors",
		"webhooks":   svc + "/Webhooks",
	}
	for key, path := range lists {
		for _, query := range []string{
			"PageSize=2&Page=4611686018427387904", // 2^62: page*size is 2^63, negative
			"Page=4611686018427387904",            // the default page size, 50
			"PageSize=1000&Page=9223372036854775", // page*size just under 2^63: no overflow, still absurd
			"PageSize=2&PageToken=PT9223372036854775807",
			"PageSize=2&Page=1&PageToken=PT9223372036854775000",
			"Page=99999999999999999999", // not an int64
		} {
			status, body := raw(t, srv, http.MethodGet, path+"?"+query, nil, srv.AccountSID(), srv.AuthToken())
			if status != http.StatusBadRequest || code(body) != 60306 {
				t.Errorf("%s?%s: %d %v, want 400 with 60306", key, query, status, body)
			}
		}
		status, body := raw(t, srv, http.MethodGet, path+"?PageSize=2&Page=1000", nil, srv.AccountSID(), srv.AuthToken())
		items, _ := body[key].([]any)
		meta, _ := body["meta"].(map[string]any)
		if status != http.StatusOK || body[key] == nil || len(items) != 0 || meta["next_page_url"] != nil ||
			meta["page"] != float64(1000) {
			t.Errorf("%s page 1000: %d %v, want 200 with no %s and no next page", key, status, body, key)
		}
		status, body = raw(t, srv, http.MethodGet, path+"?PageSize=1&PageToken=PT"+strconv.Itoa(1<<30), nil, srv.AccountSID(), srv.AuthToken())
		if status != http.StatusOK {
			t.Errorf("%s at the largest offset: %d %v, want an empty 200", key, status, body)
		}
	}
}
