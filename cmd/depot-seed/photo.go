package main

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
)

// photo draws a product shot for an item: a studio backdrop (a vertical
// gradient), a soft shadow, and a shape in the item's colours (a box, a
// cylinder or a tool-like bar and head), made from the SKU alone. Odd ones
// are PNG, the others JPEG, so MakeThumbnails sees both.
func photo(sku string, index int) (data []byte, contentType string, err error) {
	h := fnv.New64a()
	h.Write([]byte(sku))
	v := h.Sum64()
	const w, ht = 640, 480
	img := image.NewRGBA(image.Rect(0, 0, w, ht))
	top, bottom := hsv(float64(v%360), 0.15, 0.97), hsv(float64(v%360), 0.25, 0.75)
	for y := range ht {
		c := mix(top, bottom, float64(y)/ht)
		draw.Draw(img, image.Rect(0, y, w, y+1), image.NewUniform(c), image.Point{}, draw.Src)
	}
	main := hsv(float64((v>>9)%360), 0.7, 0.85)
	dark := hsv(float64((v>>9)%360), 0.8, 0.45)
	accent := hsv(float64((v>>18)%360), 0.9, 0.95)
	// The shadow on the floor.
	ellipse(img, w/2, 400, 190, 28, color.RGBA{0, 0, 0, 60})
	switch v % 3 {
	case 0: // a box with a label
		fill(img, image.Rect(190, 150, 450, 390), main)
		fill(img, image.Rect(190, 120, 450, 150), dark)
		fill(img, image.Rect(250, 230, 390, 300), color.RGBA{250, 250, 245, 255})
		for i := range 8 {
			fill(img, image.Rect(262+i*15, 245, 268+i*15, 285), color.RGBA{30, 30, 30, 255})
		}
	case 1: // a cylinder (a can, a drum, a roll)
		fill(img, image.Rect(230, 140, 410, 380), main)
		ellipse(img, 320, 380, 90, 24, main)
		ellipse(img, 320, 140, 90, 24, dark)
		fill(img, image.Rect(230, 230, 410, 280), accent)
	default: // a tool: a handle and a head
		fill(img, image.Rect(300, 170, 340, 390), dark)
		fill(img, image.Rect(300, 300, 340, 390), accent)
		fill(img, image.Rect(220, 120, 420, 180), main)
		ellipse(img, 420, 150, 30, 30, main)
	}
	// A highlight, as a studio light would leave.
	ellipse(img, 250, 170, 26, 14, color.RGBA{255, 255, 255, 90})
	var buf bytes.Buffer
	if index%2 == 1 {
		err = png.Encode(&buf, img)
		return buf.Bytes(), "image/png", err
	}
	err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes(), "image/jpeg", err
}

func fill(img draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Over)
}

// ellipse fills an ellipse centred at (cx, cy), blending c over the image.
func ellipse(img *image.RGBA, cx, cy, rx, ry int, c color.RGBA) {
	src := image.NewUniform(c)
	for y := cy - ry; y <= cy+ry; y++ {
		dy := float64(y-cy) / float64(ry)
		half := int(float64(rx) * math.Sqrt(max(0, 1-dy*dy)))
		draw.Draw(img, image.Rect(cx-half, y, cx+half, y+1), src, image.Point{}, draw.Over)
	}
}

func mix(a, b color.RGBA, t float64) color.RGBA {
	l := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}

// hsv converts a hue (degrees), saturation and value (0..1) to a colour.
func hsv(h, s, v float64) color.RGBA {
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	to := func(f float64) uint8 { return uint8(math.Round((f + m) * 255)) }
	return color.RGBA{to(r), to(g), to(b), 255}
}
