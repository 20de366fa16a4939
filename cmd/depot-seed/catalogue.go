package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// The sample data: a trade supplier's catalogue of fasteners, tools,
// electrical, plumbing, safety, packaging and cleaning goods in three
// warehouses, with groups, purchase orders received, transfers, cycle
// counts, damage, photos and a few items deleted. Everything is made from
// the seed alone (plan), so two runs with one seed want the same data.

// location is a warehouse the seeder creates.
type location struct {
	Code, Name, Address string
}

var locations = []location{
	{"RTM-DC1", "Rotterdam DC", "Waalhaven Oostzijde 1, 3087 BM Rotterdam, Netherlands"},
	{"LYS-WH2", "Lyon warehouse", "12 rue de l'Industrie, 69200 Vénissieux, France"},
	{"LDS-TC3", "Leeds trade counter", "Unit 4, Kirkstall Road, Leeds LS3 1LH, United Kingdom"},
}

// family is a product line: one item per variant.
type family struct {
	sku      string   // the SKU's stem; a variant adds its own part
	name     string   // %s: the variant's label
	desc     string   // the description; %s: the variant's label
	tags     []string // every item's tags
	variants []variant
	qty      [2]int // opening stock, from..to
	reorder  int    // reorder point (0: none)
}

type variant struct{ sku, label string }

func vs(pairs ...string) []variant {
	var out []variant
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, variant{pairs[i], pairs[i+1]})
	}
	return out
}

// cross is every a × b variant, SKU parts joined by '-' and labels by sep.
func cross(a, b []variant, sep string) []variant {
	var out []variant
	for _, x := range a {
		for _, y := range b {
			out = append(out, variant{x.sku + "-" + y.sku, x.label + sep + y.label})
		}
	}
	return out
}

var families = []family{
	{"BOLT", "Hex bolt %s, zinc plated", "Zinc-plated steel hex bolt %s, grade 8.8, DIN 933, fully threaded. Sold individually.",
		[]string{"fasteners", "steel"}, cross(vs("M6", "M6", "M8", "M8", "M10", "M10", "M12", "M12"), vs("30", "30 mm", "40", "40 mm", "60", "60 mm"), " x "), [2]int{200, 2500}, 150},
	{"NUT", "Hex nut %s, zinc plated", "Zinc-plated steel hex nut %s, grade 8, DIN 934.",
		[]string{"fasteners", "steel"}, vs("M6", "M6", "M8", "M8", "M10", "M10", "M12", "M12"), [2]int{500, 5000}, 300},
	{"WSHR", "Flat washer %s", "Form A flat washer for %s bolts, DIN 125, zinc plated.",
		[]string{"fasteners", "steel"}, vs("M6", "M6", "M8", "M8", "M10", "M10", "M12", "M12"), [2]int{500, 6000}, 300},
	{"SCRW-WD", "Wood screw %s, box of 200", "Countersunk Pozidriv wood screws %s, yellow passivated, partly threaded. Box of 200.",
		[]string{"fasteners", "wood"}, cross(vs("4", "4", "5", "5"), vs("30", "30 mm", "40", "40 mm", "50", "50 mm", "60", "60 mm"), " x "), [2]int{20, 300}, 25},
	{"PLUG", "Nylon wall plug %s, bag of 100", "Expanding nylon wall plugs %s for brick, concrete and stone. Bag of 100.",
		[]string{"fasteners", "masonry"}, vs("5", "5 mm", "6", "6 mm", "8", "8 mm", "10", "10 mm"), [2]int{30, 400}, 40},
	{"ANCH", "Sleeve anchor %s", "Steel sleeve anchor %s for heavy fixings in concrete.",
		[]string{"fasteners", "masonry", "steel"}, vs("M8X60", "M8 x 60 mm", "M10X75", "M10 x 75 mm", "M12X100", "M12 x 100 mm"), [2]int{50, 800}, 60},
	{"HAMR", "Claw hammer %s", "Forged steel claw hammer %s with a shock-absorbing fibreglass handle.",
		[]string{"tools", "hand tools"}, vs("16OZ", "16 oz", "20OZ", "20 oz"), [2]int{5, 60}, 8},
	{"SDRV-SET", "Screwdriver set, %s", "Slotted, Phillips and Pozidriv screwdrivers with soft-grip handles, %s, in a wall rack.",
		[]string{"tools", "hand tools"}, vs("6PC", "6 pieces", "12PC", "12 pieces"), [2]int{5, 50}, 6},
	{"DRILL-18V", "Cordless drill driver 18 V, %s", "Two-speed brushless drill driver, 60 Nm, 13 mm keyless chuck; %s.",
		[]string{"tools", "power tools", "cordless"}, vs("BODY", "body only", "2AH", "with 2 Ah battery and charger", "4AH", "with two 4 Ah batteries and charger"), [2]int{2, 25}, 4},
	{"BATT-18V", "18 V battery pack %s", "Lithium-ion battery pack %s for the 18 V cordless range, with charge indicator.",
		[]string{"tools", "power tools", "cordless", "batteries"}, vs("2AH", "2 Ah", "4AH", "4 Ah", "5AH", "5 Ah"), [2]int{4, 40}, 6},
	{"TAPE-MSR", "Tape measure %s", "Tape measure %s with a 25 mm blade, nylon coated, magnetic hook.",
		[]string{"tools", "measuring"}, vs("5M", "5 m", "8M", "8 m", "10M", "10 m"), [2]int{10, 120}, 12},
	{"KNIFE", "Utility knife %s", "Retractable utility knife %s, with five spare blades in the handle.",
		[]string{"tools", "hand tools", "cutting"}, vs("STD", "standard", "HD", "heavy duty"), [2]int{10, 150}, 15},
	{"BLADE", "Trapezoid blades, %s", "Spare trapezoid blades for utility knives, %s, in a dispenser.",
		[]string{"tools", "cutting", "consumables"}, vs("10", "pack of 10", "100", "pack of 100"), [2]int{20, 300}, 30},
	{"SPAN-ADJ", "Adjustable spanner %s", "Chrome vanadium adjustable spanner %s with laser-etched scale.",
		[]string{"tools", "hand tools"}, vs("150", "150 mm", "200", "200 mm", "250", "250 mm", "300", "300 mm"), [2]int{5, 60}, 6},
	{"LEVEL", "Spirit level %s", "Aluminium box-section spirit level %s, three vials, accuracy 0.5 mm/m.",
		[]string{"tools", "measuring"}, vs("60", "60 cm", "120", "120 cm", "180", "180 cm"), [2]int{3, 40}, 5},
	{"BIT-HSS", "HSS drill bit %s", "Ground HSS twist drill bit %s for steel, 135° split point.",
		[]string{"tools", "drill bits", "consumables"}, vs("3", "3 mm", "4", "4 mm", "5", "5 mm", "6", "6 mm", "8", "8 mm", "10", "10 mm"), [2]int{20, 300}, 25},
	{"BIT-MAS", "Masonry drill bit %s", "Carbide-tipped SDS-plus masonry drill bit %s.",
		[]string{"tools", "drill bits", "masonry"}, vs("5", "5 x 110 mm", "6", "6 x 160 mm", "8", "8 x 160 mm", "10", "10 x 210 mm"), [2]int{20, 250}, 20},
	{"SAW", "Hand saw %s", "Hardpoint hand saw %s, 7 teeth per inch, for fast cross and rip cuts.",
		[]string{"tools", "hand tools", "cutting"}, vs("500", "500 mm", "550", "550 mm"), [2]int{5, 60}, 6},
	{"PLIERS", "%s", "Chrome vanadium steel, induction-hardened cutting edges, two-component grips: %s.",
		[]string{"tools", "hand tools"}, vs("COMB", "Combination pliers 180 mm", "LNOSE", "Long-nose pliers 200 mm", "SIDE", "Side cutters 160 mm"), [2]int{5, 80}, 8},
	{"SOCKET-SET", "Socket set %s", "Chrome vanadium socket set %s, with a 72-tooth ratchet, in a blow-moulded case.",
		[]string{"tools", "hand tools"}, vs("14", "1/4\" drive, 46 pieces", "38", "3/8\" drive, 32 pieces", "12", "1/2\" drive, 24 pieces"), [2]int{3, 30}, 4},
	{"SIL", "Sanitary silicone, %s, 310 ml", "Mould-resistant sanitary silicone sealant, %s, in a 310 ml cartridge.",
		[]string{"building", "sealants"}, vs("WH", "white", "CL", "clear", "GY", "grey"), [2]int{30, 400}, 40},
	{"FOAM-PU", "Expanding foam, %s", "Low-expansion polyurethane gap-filling foam, %s.",
		[]string{"building", "sealants"}, vs("500", "500 ml hand-held", "750", "750 ml gun grade"), [2]int{20, 250}, 25},
	{"GLUE-WOOD", "Wood glue D3, %s", "Water-resistant PVA wood glue to EN 204 D3, %s.",
		[]string{"building", "wood"}, vs("250", "250 ml", "1L", "1 L"), [2]int{20, 200}, 20},
	{"TORCH", "%s", "Rechargeable LED light with USB-C charging and three brightness settings: %s.",
		[]string{"tools", "lighting"}, vs("HEAD", "Head torch 350 lm", "WORK", "Work light 1000 lm, magnetic base"), [2]int{5, 80}, 8},
	{"SPRAY-MRK", "Marking spray paint, %s, 500 ml", "Upside-down marking paint for ground and site marking, fluorescent %s, 500 ml.",
		[]string{"building", "marking", "consumables"}, vs("RD", "red", "BL", "blue", "YL", "yellow", "WH", "white", "GR", "green"), [2]int{20, 300}, 30},
	{"ROPE-PP", "Polypropylene rope %s x 50 m", "Three-strand polypropylene rope %s x 50 m, floats, rot-proof.",
		[]string{"warehouse", "handling"}, vs("6", "6 mm", "8", "8 mm", "10", "10 mm"), [2]int{5, 80}, 8},
	{"STRAP", "Ratchet strap %s", "Ratchet tie-down strap %s with claw hooks, to EN 12195-2.",
		[]string{"warehouse", "handling"}, vs("25", "25 mm x 5 m, 800 kg", "50", "50 mm x 8 m, 5000 kg"), [2]int{10, 150}, 15},
	{"BIN", "Storage bin size %s, blue", "Stackable polypropylene storage bin, size %s, louvre-panel compatible.",
		[]string{"warehouse", "storage"}, vs("3", "3", "4", "4", "5", "5", "6", "6"), [2]int{20, 300}, 20},
	{"FIRSTAID", "First aid kit, %s", "Workplace first aid kit to BS 8599-1, %s, in a wall-mountable case.",
		[]string{"safety", "first aid"}, vs("S", "small", "M", "medium", "L", "large"), [2]int{3, 40}, 4},
	{"FIREEXT", "Fire extinguisher, %s", "Fire extinguisher %s with a wall bracket, to EN 3.",
		[]string{"safety", "fire"}, vs("CO2", "CO2 2 kg", "FOAM", "AFFF foam 6 L", "PWD", "ABC powder 6 kg"), [2]int{2, 30}, 3},
	{"CABLE-3G15", "Rubber cable H07RN-F 3G1.5, %s", "Flexible rubber-sheathed cable H07RN-F 3G1.5 mm², for site and outdoor use; %s.",
		[]string{"electrical", "cable"}, vs("25M", "25 m drum", "50M", "50 m drum", "100M", "100 m drum"), [2]int{3, 40}, 5},
	{"CABLE-3G25", "Rubber cable H07RN-F 3G2.5, %s", "Flexible rubber-sheathed cable H07RN-F 3G2.5 mm², for site and outdoor use; %s.",
		[]string{"electrical", "cable"}, vs("25M", "25 m drum", "50M", "50 m drum"), [2]int{3, 30}, 4},
	{"LED-E27", "LED bulb E27 %s", "Frosted A60 LED bulb with an E27 cap, %s, 15,000 h, non-dimmable.",
		[]string{"electrical", "lighting"}, cross(vs("806", "806 lm", "1055", "1055 lm"), vs("2700K", "2700 K", "4000K", "4000 K"), " "), [2]int{40, 600}, 50},
	{"LED-GU10", "LED spot GU10 %s", "GU10 LED spotlight %s, 36° beam, 345 lm.",
		[]string{"electrical", "lighting"}, vs("2700K", "2700 K", "4000K", "4000 K"), [2]int{40, 500}, 50},
	{"EXT-4W", "Extension lead, 4 way, %s", "Four-way surge-protected extension lead, %s cable, 13 A.",
		[]string{"electrical"}, vs("1M5", "1.5 m", "3M", "3 m", "5M", "5 m"), [2]int{10, 150}, 15},
	{"TIE", "Cable ties %s, bag of 100", "Nylon 6.6 cable ties %s, UV stabilised. Bag of 100.",
		[]string{"electrical", "consumables"}, cross(vs("200", "200 mm", "300", "300 mm"), vs("BK", "black", "WH", "white"), " "), [2]int{50, 800}, 60},
	{"ETAPE", "PVC insulation tape, %s", "PVC insulation tape 19 mm x 20 m, %s, to EN 60454.",
		[]string{"electrical", "consumables"}, vs("BK", "black", "RD", "red", "BL", "blue", "GY", "green-yellow"), [2]int{50, 600}, 50},
	{"BATT-AA", "AA alkaline batteries, %s", "LR6 AA alkaline batteries, %s, 10-year shelf life.",
		[]string{"electrical", "batteries", "consumables"}, vs("4", "pack of 4", "24", "pack of 24"), [2]int{30, 500}, 40},
	{"BATT-AAA", "AAA alkaline batteries, %s", "LR03 AAA alkaline batteries, %s, 10-year shelf life.",
		[]string{"electrical", "batteries", "consumables"}, vs("4", "pack of 4", "24", "pack of 24"), [2]int{30, 500}, 40},
	{"PIPE-CU", "Copper pipe %s x 3 m", "Half-hard copper tube %s x 3 m to EN 1057, for water and heating.",
		[]string{"plumbing", "copper"}, vs("15", "15 mm", "22", "22 mm", "28", "28 mm"), [2]int{20, 300}, 30},
	{"ELB-CMP", "Compression elbow %s", "Brass compression elbow, 90°, %s, for copper and plastic pipe.",
		[]string{"plumbing", "fittings", "brass"}, vs("15", "15 mm", "22", "22 mm"), [2]int{50, 600}, 60},
	{"TEE-CMP", "Compression tee %s", "Brass equal compression tee %s.",
		[]string{"plumbing", "fittings", "brass"}, vs("15", "15 mm", "22", "22 mm"), [2]int{30, 400}, 40},
	{"VALVE-BALL", "Ball valve %s, lever handle", "Full-bore brass ball valve %s with a red lever handle, PN25.",
		[]string{"plumbing", "brass"}, vs("12", "1/2\"", "34", "3/4\"", "1", "1\""), [2]int{10, 200}, 20},
	{"PTFE", "PTFE thread seal tape %s", "PTFE thread seal tape %s, for water and gas fittings.",
		[]string{"plumbing", "consumables"}, vs("12", "12 mm x 12 m", "19", "19 mm x 15 m"), [2]int{50, 800}, 60},
	{"GLOVE-NIT", "Nitrile gloves, size %s, box of 100", "Powder-free disposable nitrile gloves, size %s, 4 mil, food safe. Box of 100.",
		[]string{"safety", "PPE", "consumables"}, vs("S", "S", "M", "M", "L", "L", "XL", "XL"), [2]int{20, 400}, 40},
	{"GLOVE-WRK", "Work gloves, size %s", "Nylon work gloves with a polyurethane palm coating, size %s, EN 388 4131.",
		[]string{"safety", "PPE"}, vs("8", "8", "9", "9", "10", "10"), [2]int{30, 300}, 30},
	{"GLASSES", "Safety glasses, %s lens", "Wraparound safety glasses with a %s anti-scratch, anti-fog lens, EN 166.",
		[]string{"safety", "PPE"}, vs("CLR", "clear", "TNT", "tinted", "YLW", "yellow"), [2]int{20, 300}, 25},
	{"VEST-HV", "Hi-vis vest %s", "High-visibility vest %s, EN ISO 20471 class 2, with ID pocket.",
		[]string{"safety", "PPE", "clothing"}, cross(vs("YL", "yellow", "OR", "orange"), vs("M", "M", "L", "L", "XL", "XL", "XXL", "XXL"), ", size "), [2]int{10, 200}, 15},
	{"BOOT-S3", "Safety boots S3, size %s", "Waterproof leather safety boots, S3 SRC, composite toe cap and midsole, size %s.",
		[]string{"safety", "PPE", "clothing"}, vs("40", "40", "41", "41", "42", "42", "43", "43", "44", "44", "45", "45", "46", "46"), [2]int{2, 30}, 3},
	{"HAT", "Hard hat, %s", "Vented ABS safety helmet with a six-point harness and ratchet, %s, EN 397.",
		[]string{"safety", "PPE"}, vs("WH", "white", "YL", "yellow", "BL", "blue"), [2]int{10, 120}, 10},
	{"MASK", "Disposable respirator %s, box of 20", "Folding disposable respirator %s with an exhalation valve. Box of 20.",
		[]string{"safety", "PPE", "consumables"}, vs("FFP2", "FFP2", "FFP3", "FFP3"), [2]int{10, 150}, 15},
	{"EARPLUG", "Foam earplugs, %s", "Tapered polyurethane foam earplugs, SNR 37 dB, %s.",
		[]string{"safety", "PPE", "consumables"}, vs("200", "box of 200 pairs", "500", "dispenser refill of 500 pairs"), [2]int{10, 150}, 15},
	{"BOX-SW", "Cardboard box, single wall, %s", "Single-wall brown cardboard box %s, 125 gsm, in bundles of 25.",
		[]string{"packaging", "boxes"}, vs("S", "small 305 x 229 x 152 mm", "M", "medium 457 x 305 x 305 mm", "L", "large 610 x 457 x 457 mm"), [2]int{100, 2000}, 200},
	{"BOX-DW", "Cardboard box, double wall, %s", "Double-wall brown cardboard box %s, for heavy and fragile goods, in bundles of 15.",
		[]string{"packaging", "boxes"}, vs("M", "medium 457 x 305 x 305 mm", "L", "large 610 x 457 x 457 mm"), [2]int{50, 1000}, 100},
	{"PTAPE", "Packing tape 48 mm x 66 m, %s", "Low-noise polypropylene packing tape 48 mm x 66 m, %s.",
		[]string{"packaging", "tape", "consumables"}, vs("BR", "brown", "CL", "clear", "FR", "printed FRAGILE"), [2]int{50, 900}, 100},
	{"FILM", "Stretch film %s", "Cast pallet stretch film %s, 23 micron, on a 50 mm core.",
		[]string{"packaging", "consumables"}, vs("500", "500 mm x 300 m", "400", "400 mm x 250 m, hand roll"), [2]int{20, 300}, 30},
	{"BUBBLE", "Bubble wrap %s", "Small-bubble protective wrap %s, perforated every 500 mm.",
		[]string{"packaging", "consumables"}, vs("500", "500 mm x 100 m", "750", "750 mm x 100 m", "1000", "1000 mm x 50 m"), [2]int{10, 150}, 15},
	{"LABEL-A6", "Shipping labels A6, %s", "Thermal direct shipping labels 102 x 152 mm (A6), %s.",
		[]string{"packaging", "labels", "consumables"}, vs("500", "roll of 500", "1000", "fan-fold pack of 1000"), [2]int{20, 400}, 30},
	{"CLOTH-MF", "Microfibre cloths, %s, pack of 10", "Colour-coded 40 x 40 cm microfibre cloths, %s, washable at 95 °C. Pack of 10.",
		[]string{"cleaning", "consumables"}, vs("BL", "blue", "GR", "green", "RD", "red", "YL", "yellow"), [2]int{20, 300}, 25},
	{"DEGR", "Heavy-duty degreaser, %s", "Solvent-free alkaline degreaser for workshop floors and machinery, %s.",
		[]string{"cleaning", "chemicals"}, vs("1L", "1 L spray", "5L", "5 L"), [2]int{10, 200}, 20},
	{"SOAP", "Hand cleaner with grit, %s", "Citrus hand cleaner with natural grit for oil and grease, %s.",
		[]string{"cleaning", "chemicals"}, vs("450", "450 ml tube", "4L", "4 L pump bottle"), [2]int{10, 200}, 20},
	{"ROLL-BLUE", "Blue paper roll, %s", "Two-ply blue centrefeed paper roll, %s.",
		[]string{"cleaning", "consumables"}, vs("150M", "150 m, pack of 6", "300M", "300 m, pack of 2"), [2]int{20, 300}, 30},
	{"SCAN", "Handheld barcode scanner, %s", "Handheld 2D barcode scanner, %s, reads 1D and 2D codes from screens and labels.",
		[]string{"warehouse", "equipment"}, vs("USB", "corded USB", "BT", "cordless Bluetooth"), [2]int{2, 20}, 3},
	{"PRN-LBL", "Thermal label printer, %s", "Direct thermal label printer for labels up to 108 mm wide, %s, 203 dpi.",
		[]string{"warehouse", "equipment", "labels"}, vs("USB", "USB", "NET", "USB and Ethernet"), [2]int{1, 12}, 2},
	{"MARKER", "Permanent marker, %s, box of 12", "Permanent marker with a bullet tip, %s, quick drying. Box of 12.",
		[]string{"warehouse", "office", "consumables"}, vs("BK", "black", "BL", "blue", "RD", "red"), [2]int{10, 150}, 12},
	{"CLIP-A4", "Clipboard A4, %s", "A4 clipboard with a low-profile clip, %s.",
		[]string{"warehouse", "office"}, vs("HB", "hardboard", "PL", "plastic with storage"), [2]int{5, 80}, 5},
	{"TROLLEY", "Sack truck, %s", "Steel sack truck with pneumatic wheels, %s.",
		[]string{"warehouse", "equipment", "handling"}, vs("200", "200 kg", "250", "250 kg, folding"), [2]int{1, 15}, 2},
	{"PALLET", "Euro pallet %s", "EPAL wooden pallet 1200 x 800 mm, %s.",
		[]string{"warehouse", "handling", "packaging"}, vs("NEW", "new", "USED", "used, class A"), [2]int{20, 300}, 40},
}

// Extra tags some items get: they cut across the categories.
var extraTags = []string{"bestseller", "new", "clearance", "eco", "trade only", "fast-moving"}

// item is one item to create.
type item struct {
	SKU, Name, Description string
	Tags                   []string
	Quantity               int
	ReorderPoint           *int
	Location               int // index in locations
	Photo                  bool
	Deleted                string // the deletion's comment ("" : stays live)
}

// groupPlan is a group and its members (indexes into plan.Items).
type groupPlan struct {
	Name, Description string
	Members           []int
}

// movement is a stock change: an adjustment (purchase order received,
// damage, shrinkage, return), a transfer or a count.
type movement struct {
	Kind      string // "adjustment", "transfer" or "count"
	Reason    string // an adjustment's
	Reference string
	Note      string
	Lines     []line // an adjustment's; a transfer's or a count's one line
	To        int    // a transfer's destination (location index)
}

// line is an item at a location: an adjustment's delta, a transfer's
// quantity (from Location), or a count's counted and the on hand it expects.
type line struct {
	Item, Location, Delta int
	Expected              int
}

// plan is the sample data of one seed.
type plan struct {
	Items     []item
	Groups    []groupPlan
	Movements []movement
}

// newPlan makes the sample data of seed: n live items (and a few more,
// deleted), photos numbers of them with a photo.
func newPlan(seed uint64, n, deleted, photos int) *plan {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_de907))
	var all []item
	for _, f := range families {
		for _, v := range f.variants {
			it := item{
				SKU:         f.sku + "-" + v.sku,
				Name:        fmt.Sprintf(f.name, v.label),
				Description: fmt.Sprintf(f.desc, v.label),
				Tags:        slices.Clone(f.tags),
				Quantity:    f.qty[0] + rng.IntN(f.qty[1]-f.qty[0]+1),
				Location:    rng.IntN(len(locations)),
			}
			if f.reorder > 0 && rng.IntN(10) < 7 {
				r := f.reorder
				it.ReorderPoint = &r
			}
			if rng.IntN(4) == 0 {
				it.Tags = append(it.Tags, extraTags[rng.IntN(len(extraTags))])
			}
			all = append(all, it)
		}
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	if n+deleted > len(all) {
		n = len(all) - deleted
	}
	p := &plan{Items: all[:n+deleted]}
	comments := []string{
		"Discontinued by the supplier.",
		"Duplicate of another SKU; stock merged.",
		"Recalled: batch failed inspection.",
		"Replaced by the new range.",
		"Created by mistake during stocktake.",
		"No sales in 18 months.",
	}
	for i := n; i < n+deleted; i++ {
		p.Items[i].Deleted = comments[(i-n)%len(comments)]
	}
	// A few items start below their reorder point: GET /items?lowStock=true
	// has something to show.
	for i := 0; i < n; i += 17 {
		if rp := p.Items[i].ReorderPoint; rp != nil {
			p.Items[i].Quantity = *rp / 2
		}
	}
	for i := 0; i < photos && i*7 < n; i++ {
		p.Items[i*7].Photo = true
	}
	p.Groups = p.groups(rng, n)
	p.Movements = p.movements(rng, n)
	return p
}

// groups: a few themed groups over the live items.
func (p *plan) groups(rng *rand.Rand, n int) []groupPlan {
	has := func(i int, tag string) bool { return slices.Contains(p.Items[i].Tags, tag) }
	pick := func(keep func(int) bool, max int) []int {
		var out []int
		for _, i := range rng.Perm(n) {
			if keep(i) && len(out) < max {
				out = append(out, i)
			}
		}
		slices.Sort(out)
		return out
	}
	return []groupPlan{
		{"Spring sale", "Discounted 15% from March to May.", pick(func(i int) bool { return rng.IntN(6) == 0 }, 30)},
		{"Site starter kit", "What a new site crew needs on day one.", pick(func(i int) bool { return has(i, "PPE") || has(i, "hand tools") }, 20)},
		{"Workshop consumables", "Re-ordered monthly for the workshop.", pick(func(i int) bool { return has(i, "consumables") }, 25)},
		{"Bestsellers", "Top sellers of the last quarter.", pick(func(i int) bool { return has(i, "bestseller") || has(i, "fast-moving") }, 40)},
	}
}

// movements: stock history over the live items, in an order whose every
// step holds (the plan tracks each item's stock per location as it goes).
func (p *plan) movements(rng *rand.Rand, n int) []movement {
	stock := make([][]int, n) // [item][location]
	for i := range n {
		stock[i] = make([]int, len(locations))
		stock[i][p.Items[i].Location] = p.Items[i].Quantity
	}
	var out []movement
	// Purchase orders received: 3 to 8 lines each, at one location.
	for po := range 24 {
		loc := po % len(locations)
		m := movement{Kind: "adjustment", Reason: "received", Reference: fmt.Sprintf("PO-2025-%04d", 311+po*7), Note: "Delivery checked against the packing list."}
		for _, i := range rng.Perm(n)[:3+rng.IntN(6)] {
			d := 10 * (1 + rng.IntN(20))
			stock[i][loc] += d
			m.Lines = append(m.Lines, line{Item: i, Location: loc, Delta: d})
		}
		out = append(out, m)
	}
	// Transfers between warehouses, of part of what is there.
	for range 40 {
		i := rng.IntN(n)
		from := slices.IndexFunc(stock[i], func(q int) bool { return q >= 4 })
		if from < 0 {
			continue
		}
		to := (from + 1 + rng.IntN(len(locations)-1)) % len(locations)
		q := 1 + rng.IntN(stock[i][from]/2)
		stock[i][from] -= q
		stock[i][to] += q
		out = append(out, movement{Kind: "transfer", Lines: []line{{Item: i, Location: from, Delta: q}}, To: to,
			Note: []string{"Rebalancing stock.", "Urgent: customer order.", "Seasonal move.", ""}[rng.IntN(4)]})
	}
	// Damage and shrinkage, found on the floor.
	for k := range 16 {
		i := rng.IntN(n)
		loc := slices.IndexFunc(stock[i], func(q int) bool { return q >= 2 })
		if loc < 0 {
			continue
		}
		d := 1 + rng.IntN(min(stock[i][loc]/2, 12))
		stock[i][loc] -= d
		reason, note := "damaged", "Dropped by the forklift."
		if k%3 == 2 {
			reason, note = "shrinkage", "Missing at the pick face."
		}
		out = append(out, movement{Kind: "adjustment", Reason: reason, Note: note, Lines: []line{{Item: i, Location: loc, Delta: -d}}})
	}
	// Cycle counts: compare-and-set on the stock the plan expects there.
	for range 30 {
		i := rng.IntN(n)
		loc := slices.IndexFunc(stock[i], func(q int) bool { return q > 0 })
		if loc < 0 {
			continue
		}
		counted := max(0, stock[i][loc]+rng.IntN(5)-2)
		out = append(out, movement{Kind: "count", Lines: []line{{Item: i, Location: loc, Delta: counted, Expected: stock[i][loc]}}})
		stock[i][loc] = counted
	}
	// Customer returns.
	for range 8 {
		i := rng.IntN(n)
		loc := p.Items[i].Location
		stock[i][loc]++
		out = append(out, movement{Kind: "adjustment", Reason: "returned", Reference: fmt.Sprintf("RMA-%05d", 1000+rng.IntN(9000)),
			Note: "Unopened; back to stock.", Lines: []line{{Item: i, Location: loc, Delta: 1}}})
	}
	return out
}

// items touched by a movement.
func (m movement) items() []int {
	var out []int
	for _, l := range m.Lines {
		out = append(out, l.Item)
	}
	return out
}

// key is a deterministic Idempotency-Key for one request of the plan.
func key(seed uint64, parts ...any) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = fmt.Sprint(p)
	}
	return fmt.Sprintf("depot-seed/%d/%s", seed, strings.Join(s, "/"))
}
