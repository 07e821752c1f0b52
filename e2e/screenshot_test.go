package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// A phone's and a desktop's viewport, in CSS pixels.
var (
	phone   = viewport{name: "phone", width: 390, height: 844, mobile: true}
	desktop = viewport{name: "desktop", width: 1024, height: 720}
)

type viewport struct {
	name          string
	width, height int
	mobile        bool
}

// TestScreenshots: the sign-in and second-factor pages fit a phone's
// width without scrolling sideways; the sign-in page offers a passkey (the
// server serves them) and the second factor does not (the user has none). With E2E_UPDATE_SCREENSHOT=1 it writes
// docs/login-page.png: the sign-in page on a desktop beside the second
// factor on a phone, waiting for a push.
func TestScreenshots(t *testing.T) {
	s := startServer(t, "ada", userOptions{push: true, totp: true, sms: true, passkeys: true})
	p := newPage(t, s.base, desktop.width, desktop.height)
	shots := map[string]image.Image{}
	for _, vp := range []viewport{phone, desktop} {
		p.resize(vp)
		p.open("/")
		p.checkFits(vp, "sign-in page")
		if !p.visible("#passkey-signin") {
			t.Errorf("%s: the sign-in page hides its passkey button, but the server serves passkeys", vp.name)
		}
		shots["signin-"+vp.name] = p.image()

		p.signIn(s.user)
		p.waitPath("/second-factor")
		for _, id := range []string{"push", "totp", "sms"} {
			if !p.visible("#" + id) {
				t.Errorf("%s: the second factor page hides #%s, which the user has", vp.name, id)
			}
		}
		if p.visible("#passkey-second") {
			t.Errorf("%s: the second factor page offers a passkey, but the user has none", vp.name)
		}
		p.checkFits(vp, "second factor page")
		shots["second-"+vp.name] = p.image()
		if vp.mobile { // the push as it waits for the phone, for the docs
			p.click("push-send")
			p.waitText("push-status", "Open it and tap Approve")
			shots["push-"+vp.name] = p.image()
			if _, err := s.user.phone.Deny(context.Background(), s.pendingPush()); err != nil {
				t.Fatal(err)
			}
			p.waitText("push-status", "denied")
		}
		p.click("start-over")
		p.waitPath("/")
	}
	p.checkScripts()

	if os.Getenv("E2E_UPDATE_SCREENSHOT") != "1" {
		return
	}
	out := filepath.Join("..", "docs", "login-page.png")
	if err := writePNG(out, sideBySide(shots["signin-desktop"], shots["push-phone"])); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", out)
}

// resize sets the tab's viewport (and, for a phone, its touch and mobile
// emulation).
func (p *page) resize(vp viewport) {
	p.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	p.do("resizing to "+vp.name, chromedp.EmulateViewport(int64(vp.width), int64(vp.height), opts...))
}

// checkFits fails the test if the page is wider than the viewport: a
// phone would scroll it sideways.
func (p *page) checkFits(vp viewport, what string) {
	p.t.Helper()
	if over := p.eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); over != "0" {
		p.t.Errorf("%s at %s width (%d px): %s px wider than the screen", what, vp.name, vp.width, over)
	}
	if vp.mobile && p.eval(`document.querySelector('meta[name="viewport"]')?.content ?? ""`) == "" {
		p.t.Errorf("%s has no viewport meta: phones would show it zoomed out", what)
	}
}

// image is a screenshot of the viewport, decoded.
func (p *page) image() image.Image {
	p.t.Helper()
	img, err := png.Decode(bytes.NewReader(p.screenshot()))
	if err != nil {
		p.t.Fatalf("decoding the screenshot: %v", err)
	}
	return img
}

// sideBySide puts the images next to each other, top-aligned, on a grey
// background with a margin.
func sideBySide(imgs ...image.Image) image.Image {
	const margin = 24
	w, h := margin, 0
	for _, img := range imgs {
		w += img.Bounds().Dx() + margin
		h = max(h, img.Bounds().Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h+2*margin))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.RGBA{0xd5, 0xdb, 0xe5, 0xff}), image.Point{}, draw.Src)
	x := margin
	for _, img := range imgs {
		r := img.Bounds()
		draw.Draw(out, image.Rect(x, margin, x+r.Dx(), margin+r.Dy()), img, r.Min, draw.Src)
		x += r.Dx() + margin
	}
	return out
}

// writePNG writes img to path, compressed as far as png goes.
func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
