"""Words and item titles of the semantic tests (imported by them and their conftest;
a test never imports a conftest, whose module name is shared by every test folder)."""

WORDS = (
    "a an and the of for with to in on by , . : ! ? - ( ) & ' "
    "red blue green pink black white dark light long short curly wavy straight "
    "lipstick lip liner gloss balm nail polish mascara eyeliner shadow palette brush "
    "shampoo conditioner hair oil serum cream lotion mask soap gel spray wig cosplay "
    "dry oily skin face body hand foot men women kids ounce pack set kit travel size "
    "organic natural vitamin oregano foods now unknown item product represent this "
    "query passage beauty review"
).split()

TITLES = [
    "red lipstick",
    "long curly wig for women",
    "lip liner",
    "organic shampoo for dry hair , 8 ounce",
    "nail polish set ( pink , red , white )",
    "face cream with vitamin oil",
    "black mascara",
    "cosplay wig",
    "hand soap travel size pack",
    "dark eyeliner and eye shadow palette for women",
]
