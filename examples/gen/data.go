package main

// location is a place orders ship to; weight is how often it appears.
type location struct {
	city, state, postal string
	weight              int
}

// regionOf maps each state to its sales region, as in the original sample.
var regionOf = map[string]string{
	"California": "West", "Washington": "West", "Oregon": "West", "Arizona": "West",
	"Colorado": "West", "Utah": "West", "Nevada": "West", "New Mexico": "West",
	"Idaho": "West", "Montana": "West", "Wyoming": "West",

	"New York": "East", "Pennsylvania": "East", "Ohio": "East", "New Jersey": "East",
	"Massachusetts": "East", "Connecticut": "East", "Delaware": "East", "Rhode Island": "East",
	"Maryland": "East", "New Hampshire": "East", "Vermont": "East", "Maine": "East",
	"West Virginia": "East", "District of Columbia": "East",

	"Texas": "Central", "Illinois": "Central", "Michigan": "Central", "Indiana": "Central",
	"Wisconsin": "Central", "Minnesota": "Central", "Missouri": "Central", "Oklahoma": "Central",
	"Nebraska": "Central", "Iowa": "Central", "Kansas": "Central", "South Dakota": "Central",
	"North Dakota": "Central",

	"Florida": "South", "North Carolina": "South", "Virginia": "South", "Georgia": "South",
	"Tennessee": "South", "Kentucky": "South", "Alabama": "South", "Louisiana": "South",
	"Mississippi": "South", "Arkansas": "South", "South Carolina": "South",
}

// locations are the cities orders ship to, weighted roughly as in the
// original sample.
var locations = []location{
	{"Los Angeles", "California", "90036", 75}, {"Los Angeles", "California", "90049", 45},
	{"San Francisco", "California", "94122", 50}, {"San Francisco", "California", "94110", 35},
	{"San Diego", "California", "92105", 17}, {"San Diego", "California", "92024", 10},
	{"Sacramento", "California", "95823", 6}, {"San Jose", "California", "95123", 5},
	{"Fresno", "California", "93727", 3}, {"Long Beach", "California", "90805", 5},
	{"Anaheim", "California", "92804", 3}, {"Oakland", "California", "94601", 3},
	{"Seattle", "Washington", "98103", 45}, {"Seattle", "Washington", "98115", 25},
	{"Spokane", "Washington", "99207", 2}, {"Tacoma", "Washington", "98405", 2},
	{"Portland", "Oregon", "97206", 7}, {"Salem", "Oregon", "97301", 2},
	{"Phoenix", "Arizona", "85023", 6}, {"Tucson", "Arizona", "85705", 4},
	{"Mesa", "Arizona", "85204", 2}, {"Denver", "Colorado", "80219", 8},
	{"Aurora", "Colorado", "80013", 4}, {"Colorado Springs", "Colorado", "80906", 3},
	{"Salt Lake City", "Utah", "84106", 3}, {"Las Vegas", "Nevada", "89115", 3},
	{"Henderson", "Nevada", "89015", 2}, {"Albuquerque", "New Mexico", "87105", 2},
	{"Boise", "Idaho", "83704", 2}, {"Billings", "Montana", "59102", 1},
	{"Cheyenne", "Wyoming", "82001", 1},

	{"New York City", "New York", "10035", 55}, {"New York City", "New York", "10024", 45},
	{"New York City", "New York", "10011", 40}, {"New York City", "New York", "10009", 30},
	{"Buffalo", "New York", "14215", 3}, {"Rochester", "New York", "14609", 3},
	{"Philadelphia", "Pennsylvania", "19140", 40}, {"Philadelphia", "Pennsylvania", "19134", 15},
	{"Pittsburgh", "Pennsylvania", "15237", 2}, {"Columbus", "Ohio", "43229", 7},
	{"Cleveland", "Ohio", "44105", 4}, {"Cincinnati", "Ohio", "45231", 3},
	{"Toledo", "Ohio", "43615", 2}, {"Newark", "New Jersey", "07104", 3},
	{"Jersey City", "New Jersey", "07306", 2}, {"Boston", "Massachusetts", "02108", 5},
	{"Springfield", "Massachusetts", "01109", 2}, {"Bridgeport", "Connecticut", "06604", 2},
	{"Hartford", "Connecticut", "06106", 1}, {"Wilmington", "Delaware", "19805", 2},
	{"Providence", "Rhode Island", "02908", 2}, {"Baltimore", "Maryland", "21215", 2},
	{"Manchester", "New Hampshire", "03103", 1}, {"Burlington", "Vermont", "05408", 1},
	{"Portland", "Maine", "04101", 1}, {"Huntington", "West Virginia", "25701", 1},
	{"Washington", "District of Columbia", "20016", 1},

	{"Houston", "Texas", "77095", 30}, {"Houston", "Texas", "77041", 15},
	{"Dallas", "Texas", "75217", 10}, {"Dallas", "Texas", "75220", 5},
	{"San Antonio", "Texas", "78207", 6}, {"Austin", "Texas", "78745", 4},
	{"Fort Worth", "Texas", "76106", 3}, {"Chicago", "Illinois", "60653", 25},
	{"Chicago", "Illinois", "60623", 15}, {"Springfield", "Illinois", "62701", 2},
	{"Aurora", "Illinois", "60505", 2}, {"Detroit", "Michigan", "48205", 6},
	{"Lansing", "Michigan", "48911", 2}, {"Grand Rapids", "Michigan", "49505", 2},
	{"Indianapolis", "Indiana", "46203", 3}, {"Lafayette", "Indiana", "47905", 2},
	{"Milwaukee", "Wisconsin", "53209", 3}, {"Madison", "Wisconsin", "53711", 2},
	{"Minneapolis", "Minnesota", "55407", 3}, {"Saint Paul", "Minnesota", "55106", 1},
	{"Kansas City", "Missouri", "64118", 2}, {"Saint Louis", "Missouri", "63116", 2},
	{"Oklahoma City", "Oklahoma", "73120", 3}, {"Tulsa", "Oklahoma", "74133", 2},
	{"Omaha", "Nebraska", "68104", 2}, {"Des Moines", "Iowa", "50315", 1},
	{"Wichita", "Kansas", "67212", 1}, {"Sioux Falls", "South Dakota", "57103", 1},
	{"Fargo", "North Dakota", "58103", 1},

	{"Jacksonville", "Florida", "32216", 6}, {"Miami", "Florida", "33142", 4},
	{"Tampa", "Florida", "33614", 3}, {"Orlando", "Florida", "32839", 2},
	{"Fort Lauderdale", "Florida", "33311", 2}, {"Charlotte", "North Carolina", "28205", 6},
	{"Raleigh", "North Carolina", "27604", 3}, {"Greensboro", "North Carolina", "27405", 3},
	{"Richmond", "Virginia", "23223", 5}, {"Virginia Beach", "Virginia", "23464", 4},
	{"Arlington", "Virginia", "22204", 3}, {"Atlanta", "Georgia", "30318", 5},
	{"Columbus", "Georgia", "31907", 2}, {"Columbia", "Tennessee", "38401", 2},
	{"Memphis", "Tennessee", "38109", 3}, {"Nashville", "Tennessee", "37211", 3},
	{"Louisville", "Kentucky", "40214", 3}, {"Lexington", "Kentucky", "40505", 1},
	{"Montgomery", "Alabama", "36116", 2}, {"Birmingham", "Alabama", "35244", 1},
	{"New Orleans", "Louisiana", "70119", 2}, {"Lafayette", "Louisiana", "70506", 2},
	{"Jackson", "Mississippi", "39212", 2}, {"Little Rock", "Arkansas", "72209", 2},
	{"Columbia", "South Carolina", "29203", 2},
}

// subCategory describes the products of one sub-category.
type subCategory struct {
	category, name string
	// weight is how many order lines of the original sample fall in it.
	weight int
	// lo and hi bound a product's unit price, in cents.
	lo, hi int
	// margin is the usual gross margin before discount, in basis points.
	margin int
	// brands and items make product names: brand + item + variant.
	brands, items, variants []string
}

var subCategories = []subCategory{
	{"Furniture", "Bookcases", 228, 4000, 37000, 800,
		[]string{"Bush", "O'Sullivan", "Sauder", "Atlantic Metals", "Hon", "DMI"},
		[]string{"Heritage Pine Collection 5-Shelf Bookcase", "Westfield Mobile Bookcase", "Cornerstone Collection Library", "Metal Bookcases", `Mission Pine 36" Bookcase`, "Barrister Bookcases", "Library with Doors"},
		[]string{"", "", ", Dark Cherry", ", Antique Oak", ", Natural Maple"}},
	{"Furniture", "Chairs", 617, 3000, 36000, 2200,
		[]string{"Hon", "Global", "Office Star", "SAFCO", "Harbour Creations", "Novimex", "Hon Olson"},
		[]string{"Deluxe Fabric Upholstered Stacking Chairs", "Leather Highback Executive Chair with Pneumatic Height Adjustment", "Mid-Back Task Chair", "Stacking Chairs", "Ergonomic Mesh Chair", "Troy Series Mid-Back Swivel/Tilt Chairs", "Big & Tall Leather Chair"},
		[]string{"", ", Rounded Back", ", Black", ", Gray", ", Burgundy"}},
	{"Furniture", "Furnishings", 957, 200, 8000, 3200,
		[]string{"Eldon", "Howard Miller", "Tenex", "Advantus", "Deflect-o", "DAX", "Luxo"},
		[]string{"Expressions Wood Desk Accessories", "Wall Clock", "Chairmats for Carpeted Floors", "Clear Magnetic Frames", "Executive Woodline II Cherry Finish Desk Accessories", "Wood Document Frame", "Magnifier Lamp", `13-1/2" Diameter Round Wall Clock`},
		[]string{"", "", ", Oak", ", Black", ", Gold/Black"}},
	{"Furniture", "Tables", 319, 6000, 48000, 700,
		[]string{"Bretford", "Chromcraft", "Hon", "Balt", "Barricks", "Bevis"},
		[]string{"CR4500 Series Slim Rectangular Table", "Round Conference Tables", "Non-Folding Utility Table", "Adjustable Height Table", "Computer Training Table", "Rectangular Conference Table", `48" Round Training Table`},
		[]string{"", "", ", Walnut", ", Gray Top"}},

	{"Office Supplies", "Appliances", 466, 500, 21500, 3900,
		[]string{"Holmes", "Honeywell", "Hoover", "Kensington", "Belkin", "Fellowes"},
		[]string{"Replacement Filter for HEPA Air Cleaner", "Enviracaire Portable HEPA Air Cleaner", "Upright Vacuum", "7 Outlet MasterPiece Power Center", "8 Outlet Surge Protector", "Microwave Oven"},
		[]string{"", "", ", Very Large Room", ", 6 ft Cord"}},
	{"Office Supplies", "Art", 796, 100, 2500, 3700,
		[]string{"Newell", "Sanford", "Prang", "Dixon", "BIC", "Boston"},
		[]string{"Colored Pencils", "Highlighters", "Dry Erase Markers", "Pencil Sharpener", "Ticonderoga Pencils", "Permanent Markers", "Art Assortment"},
		[]string{"", "", ", Assorted Colors", ", 12/Pack", ", Fine Point"}},
	{"Office Supplies", "Binders", 1523, 100, 12000, 4200,
		[]string{"Avery", "Wilson Jones", "Cardinal", "Acco", "GBC", "Ibico", "Fellowes"},
		[]string{"Non-Stick Binders", "Clear View Binder", "Heavy-Duty D-Ring Binder", "Binding Machine", "Presentation Binders", "Round Ring Binders", `1" Binder`, "Binder Covers"},
		[]string{"", "", ", Blue", ", Black", ", 8-1/2 x 11"}},
	{"Office Supplies", "Envelopes", 254, 300, 4500, 5400,
		[]string{"Ames", "Quality Park", "Tyvek", "Colored Envelopes", "Security-Tint"},
		[]string{"Business Envelopes", "Peel & Seel Envelopes", "Clasp Envelopes", "Interoffice Envelopes", "Catalog Envelopes"},
		[]string{"", ", White", ", Recycled, 100/Box", ", #10"}},
	{"Office Supplies", "Fasteners", 217, 100, 900, 4200,
		[]string{"Acco", "Advantus", "Vinyl Coated", "OIC"},
		[]string{"Paper Clips", "Push Pins", "Binder Clips", "Rubber Bands", "Staples"},
		[]string{"", ", Assorted Sizes", ", 100/Pack"}},
	{"Office Supplies", "Labels", 364, 100, 2500, 5600,
		[]string{"Avery", "Dymo", "Smead"},
		[]string{"Address Labels", "Self-Adhesive Removable Labels", "File Folder Labels", "Round Labels", "Color-Coded Labels"},
		[]string{"", ", White", ", 1000/Pack", ", Laser/Inkjet"}},
	{"Office Supplies", "Paper", 1370, 300, 3900, 5500,
		[]string{"Xerox", "Easy-staple", "Southworth", "Hammermill", "Great White", "Adams"},
		[]string{"Copy Paper", "Message Book", "Multi-Use Paper", "Telephone Message Books", "Colored Copy Paper", "Business Paper"},
		[]string{"", "", ", Letter", ", 500 Sheets/Ream", ", 8.5 x 11"}},
	{"Office Supplies", "Storage", 846, 300, 20400, 2200,
		[]string{"Fellowes", "Eldon", "Tennsco", "Safco", "Sterilite", "Iris"},
		[]string{"Personal Folder Holder", "Stackable Storage Box", "Lockers", "Industrial Wire Shelving", "File Cart", "Heavy-Duty Storage Drawers"},
		[]string{"", "", ", Ebony", ", Gray", ", 5 Drawers"}},
	{"Office Supplies", "Supplies", 190, 200, 19000, 600,
		[]string{"Acme", "Fiskars", "Martin Yale", "Stiletto"},
		[]string{"Scissors", "Trimmer", "Letter Opener", "Box Cutter", "Rulers"},
		[]string{"", ", Stainless Steel", ", 8\""}},

	{"Technology", "Accessories", 775, 300, 16500, 3600,
		[]string{"Logitech", "Kingston", "SanDisk", "Imation", "Belkin", "Microsoft", "Plantronics"},
		[]string{"Wireless Mouse", "USB Flash Drive", "Keyboard", "Headset", "Memory Card", "Webcam", "Gaming Mouse"},
		[]string{"", "", ", 16GB", ", Black", ", USB"}},
	{"Technology", "Copiers", 68, 20000, 130000, 4700,
		[]string{"Canon", "Hewlett-Packard", "Sharp", "Brother"},
		[]string{"imageCLASS Copier", "Desktop Inkjet Multifunction Printer", "AL-1530CS Digital Copier", "PC-1060 Personal Copier"},
		[]string{"", ", Color", ", Laser"}},
	{"Technology", "Machines", 115, 3000, 123000, 2700,
		[]string{"Cubify", "Okidata", "Lexmark", "Zebra", "Cisco", "StarTech"},
		[]string{"CubeX 3D Printer", "Dot Matrix Printer", "Laser Printer", "Thermal Label Printer", "Card Printer", "Inkjet Printer"},
		[]string{"", ", Double Head Print", ", Network"}},
	{"Technology", "Phones", 889, 500, 29000, 2500,
		[]string{"Apple", "Samsung", "Motorola", "Nokia", "Polycom", "AT&T", "Cisco"},
		[]string{"Smart Phone", "Conference Phone", "IP Phone", "Cordless Phone", "Headset Phone", "Speakerphone"},
		[]string{"", "", ", Full Size", ", Refurbished", ", Black"}},
}

var firstNames = []string{
	"Claire", "Darrin", "Sean", "Brosina", "Andrew", "Irene", "Harold", "Pete", "Alejandro", "Zuschuss",
	"Ken", "Sandra", "Emily", "Eric", "Tracy", "Matt", "Gene", "Steve", "Linda", "Ruben",
	"Erin", "Odella", "Patrick", "Lena", "Nora", "Dave", "Julie", "Anna", "Christopher", "Ted",
	"Maria", "Greg", "Tamara", "Jim", "Barry", "Paul", "Karen", "Laura", "Mick", "Adam",
	"Susan", "Janet", "Katrina", "Kelly", "Hunter", "Toby", "Rick", "Roy", "Natalie", "Dean",
	"Frank", "Helen", "Ivan", "Joel", "Lindsay", "Victoria", "Xylona", "Yana", "Zuschuss", "Max",
}

var lastNames = []string{
	"Gute", "Van Huff", "O'Donnell", "Hoffman", "Allen", "Maddox", "Pawlan", "Kriz", "Grove", "Donatelli",
	"Black", "Flathmann", "Burns", "Hoffmann", "Blue", "Abelman", "Hale", "Novak", "Cazares", "Ausman",
	"Smith", "Nelson", "O'Brill", "Creighton", "Preis", "Brooks", "Kriz", "Andreada", "Schild", "Butterfield",
	"Bartlett", "Tran", "Chand", "Epp", "Franzreb", "Gonzalez", "Ferguson", "Armstrong", "Lee", "Bellavance",
	"Pelletier", "Molinari", "Willman", "Collister", "Lopez", "Braunhardt", "Bennett", "Skaria", "Fritzler", "Ruddick",
	"Carlisle", "Wasserman", "Jackson", "Eaton", "Givens", "Pisteka", "Preis", "Sayre", "Tschetter", "Jones",
	"Wilson", "Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Clark", "Lewis", "Walker", "Young",
}
