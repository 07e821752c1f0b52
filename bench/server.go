// Package bench compares verify-go with a hand-written net/http client (the
// floor) and twilio-go on identical work against a loopback server that
// runs in a separate process, so allocations are the clients' alone.
package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Fixed identifiers of the benchmark's world.
const (
	accountSID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	authToken  = "benchauthtoken0123456789abcdef01"
	serviceSID = "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	identity   = "ff483d1ff591898a9942916050d2ca3f"
	factorSID  = "YF03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	sid        = "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	missingSID = "YC0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" // a challenge the server answers 404 for
	listPath   = "/v2/Services/" + serviceSID + "/Entities/" + identity + "/Challenges"

	listTotal    = 1000 // challenges behind the list endpoint
	listPageSize = 100
)

// notFound is Twilio's answer for a challenge SID that does not exist.
var notFound = []byte(`{"code":20404,"message":"The requested resource ` + listPath + "/" + missingSID +
	` was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`)

// serve runs the benchmark server: the API on one port, connection counts
// on another, until stdin closes. It prints both addresses first.
func serve(testdata string) error {
	read := func(name string) []byte {
		b, err := os.ReadFile(testdata + "/" + name)
		if err != nil {
			panic(err)
		}
		return bytes.TrimSpace(b)
	}
	created, fetched, updated := read("create_push.json"), read("fetch.json"), read("update_push.json")
	item := string(fetched)

	var conns atomic.Int64
	api := &http.Server{
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != accountSID || p != authToken {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			switch {
			case r.Method == http.MethodPost && r.URL.Path == listPath:
				_ = r.ParseForm()
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write(created)
			case r.Method == http.MethodGet && r.URL.Path == listPath:
				offset, _ := strconv.Atoi(r.URL.Query().Get("PageToken"))
				_, _ = w.Write(pages[r.Host+"|"+strconv.Itoa(offset)])
			case r.Method == http.MethodGet && r.URL.Path == listPath+"/"+missingSID:
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write(notFound)
			case r.Method == http.MethodGet:
				_, _ = w.Write(fetched)
			default:
				_ = r.ParseForm()
				_, _ = w.Write(updated)
			}
		}),
	}
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	admin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			conns.Store(0)
		}
		fmt.Fprint(w, conns.Load())
	})}
	for _, host := range []string{apiLn.Addr().String(), "verify.twilio.com"} {
		for offset := 0; offset < listTotal; offset += listPageSize {
			pages[host+"|"+strconv.Itoa(offset)] = renderPage(host, offset, item)
		}
	}
	go func() { _ = api.Serve(apiLn) }()
	go func() { _ = admin.Serve(adminLn) }()
	fmt.Printf("%s %s\n", apiLn.Addr(), adminLn.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	return nil
}

// pages holds every list page, by host and offset, rendered before serving.
var pages = map[string][]byte{}

// renderPage builds the page at offset; next_page_url is absolute on host.
func renderPage(host string, offset int, item string) []byte {
	scheme := "http"
	if host == "verify.twilio.com" {
		scheme = "https" // twilio-go's requests keep their original host
	}
	var b strings.Builder
	b.WriteString(`{"challenges":[`)
	for i := offset; i < offset+listPageSize && i < listTotal; i++ {
		if i > offset {
			b.WriteByte(',')
		}
		b.WriteString(strings.Replace(item, `"sid": "YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`, fmt.Sprintf(`"sid": "YC%032x"`, i), 1))
	}
	next := "null"
	if offset+listPageSize < listTotal {
		next = fmt.Sprintf(`"%s://%s%s?PageSize=%d&PageToken=%d"`, scheme, host, listPath, listPageSize, offset+listPageSize)
	}
	fmt.Fprintf(&b, `],"meta":{"page":%d,"page_size":%d,"first_page_url":"%s://%s%s?PageSize=%d","previous_page_url":null,"url":"%s://%s%s","next_page_url":%s,"key":"challenges"}}`,
		offset/listPageSize, listPageSize, scheme, host, listPath, listPageSize, scheme, host, listPath, next)
	return []byte(b.String())
}
