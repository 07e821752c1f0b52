// Package e2e drives the example programs in a real browser: headless
// Chromium, through chromedp, signs in to examples/login against an
// in-process verifytest server. It is a module of its own so that chromedp
// stays out of the root module's dependencies; it has tests only.
//
//	cd e2e && go test ./...
//
// The tests need Chromium (apt-get install chromium, or CHROMIUM=/path/to/chrome);
// without one they skip, unless CI=true, where they fail.
package e2e
