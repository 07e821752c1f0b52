package main

import (
	"errors"
	"image"
	"image/color"
	"io"
	"strings"
)

// qrModules reads the module grid back from the QR image pquerna/otp draws
// (an integer scale of the code, centred, dark on light): true is a dark
// module. The top-left finder pattern, 7 modules wide, gives the scale.
func qrModules(img image.Image) ([][]bool, error) {
	b := img.Bounds()
	dark := func(x, y int) bool {
		g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
		return g.Y < 128
	}
	left, top := -1, -1
	for y := b.Min.Y; y < b.Max.Y && top < 0; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(x, y) {
				left, top = x, y
				break
			}
		}
	}
	if top < 0 {
		return nil, errors.New("qr: the image has no dark pixel")
	}
	run := 0
	for x := left; x < b.Max.X && dark(x, top); x++ {
		run++
	}
	if run%7 != 0 {
		return nil, errors.New("qr: the finder pattern is not 7 modules wide")
	}
	scale := run / 7
	right := left
	for x := left; x < b.Max.X; x++ {
		for y := top; y < b.Max.Y; y++ {
			if dark(x, y) {
				right = x
				break
			}
		}
	}
	n := (right - left + 1) / scale
	if n < 21 || (n-21)%4 != 0 {
		return nil, errors.New("qr: the code's size is not a QR version's")
	}
	grid := make([][]bool, n)
	for r := range grid {
		grid[r] = make([]bool, n)
		for c := range grid[r] {
			grid[r][c] = dark(left+c*scale+scale/2, top+r*scale+scale/2)
		}
	}
	return grid, nil
}

// quietZone is the light border, in modules, that lets a phone find the code.
const quietZone = 2

// printQR draws the grid with half-block characters, two module rows per
// text line. On a dark terminal light modules are drawn as blocks, so the
// code reads dark-on-light to a camera; invert is for light terminals.
func printQR(w io.Writer, grid [][]bool, invert bool) error {
	n := len(grid) + 2*quietZone
	light := func(r, c int) bool { // outside the grid is the quiet zone
		r, c = r-quietZone, c-quietZone
		if r < 0 || c < 0 || r >= len(grid) || c >= len(grid) {
			return true
		}
		return !grid[r][c]
	}
	var sb strings.Builder
	for r := 0; r < n; r += 2 {
		for c := 0; c < n; c++ {
			upper, lower := light(r, c) != invert, r+1 < n && light(r+1, c) != invert
			switch {
			case upper && lower:
				sb.WriteString("█")
			case upper:
				sb.WriteString("▀")
			case lower:
				sb.WriteString("▄")
			default:
				sb.WriteString(" ")
			}
		}
		sb.WriteString("\n")
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
