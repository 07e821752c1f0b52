package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pquerna/otp"
)

const testURI = "otpauth://totp/verify-go:Ada%27s%20phone?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=verify-go&algorithm=SHA1&digits=6&period=30"

// TestQRGridIsTheSameAtEveryScale reads the grid from two image sizes: the
// same modules, a QR version's size, finder patterns in three corners.
func TestQRGridIsTheSameAtEveryScale(t *testing.T) {
	key, err := otp.NewKeyFromURL(testURI)
	if err != nil {
		t.Fatal(err)
	}
	var grids [][][]bool
	for _, size := range []int{200, 555} {
		img, err := key.Image(size, size)
		if err != nil {
			t.Fatal(err)
		}
		g, err := qrModules(img)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		grids = append(grids, g)
	}
	if gridText(grids[0]) != gridText(grids[1]) {
		t.Fatalf("grids differ between scales:\n%s\n%s", gridText(grids[0]), gridText(grids[1]))
	}
	g := grids[0]
	n := len(g)
	for _, corner := range [][2]int{{0, 0}, {0, n - 7}, {n - 7, 0}} {
		if !finder(g, corner[0], corner[1]) {
			t.Errorf("no finder pattern at %v", corner)
		}
	}
	if finder(g, n-7, n-7) {
		t.Errorf("a finder pattern in the bottom-right corner")
	}
}

// TestPrintQRRoundTrips parses the half-block text back into modules.
func TestPrintQRRoundTrips(t *testing.T) {
	key, _ := otp.NewKeyFromURL(testURI)
	img, _ := key.Image(300, 300)
	g, err := qrModules(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, invert := range []bool{false, true} {
		var buf bytes.Buffer
		if err := printQR(&buf, g, invert); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		n := len(g) + 2*quietZone
		if len(lines) != (n+1)/2 {
			t.Fatalf("%d lines for %d module rows", len(lines), n)
		}
		for r := 0; r < n; r++ {
			row := []rune(lines[r/2])
			if len(row) != n {
				t.Fatalf("line %d has %d characters, want %d", r/2, len(row), n)
			}
			for c := 0; c < n; c++ {
				var lit bool // the printed module is a block, upper or lower half
				switch row[c] {
				case '█':
					lit = true
				case '▀':
					lit = r%2 == 0
				case '▄':
					lit = r%2 == 1
				}
				inside := r >= quietZone && c >= quietZone && r < n-quietZone && c < n-quietZone
				dark := inside && g[r-quietZone][c-quietZone]
				if lit != (dark == invert) {
					t.Fatalf("invert=%v: module (%d,%d) printed wrong", invert, r, c)
				}
			}
		}
	}
}

func finder(g [][]bool, r0, c0 int) bool {
	for r := 0; r < 7; r++ {
		for c := 0; c < 7; c++ {
			ring := r == 0 || r == 6 || c == 0 || c == 6
			core := r >= 2 && r <= 4 && c >= 2 && c <= 4
			if g[r0+r][c0+c] != (ring || core) {
				return false
			}
		}
	}
	return true
}

func gridText(g [][]bool) string {
	var sb strings.Builder
	for _, row := range g {
		for _, d := range row {
			if d {
				sb.WriteByte('#')
			} else {
				sb.WriteByte('.')
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}
