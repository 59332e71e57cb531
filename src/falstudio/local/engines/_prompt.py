"""Reading a prompt offline: which sky, which ground, which things to draw, which colours.

A small curated vocabulary, not language understanding; whatever is not recognised is reported so the
engine can say honestly what it left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from PIL import ImageColor

RGB = tuple[int, int, int]

# Things the scene painter can draw, each with the words that ask for it.
OBJECTS: dict[str, frozenset[str]] = {
    "sun": frozenset({"sun", "sunny", "sunshine", "sunlight"}),
    "moon": frozenset({"moon", "moonlight", "moonlit", "crescent", "moonrise"}),
    "stars": frozenset({"star", "stars", "starry", "starlit", "galaxy", "milky", "constellation"}),
    "clouds": frozenset({"cloud", "clouds", "cloudy", "overcast"}),
    "mountains": frozenset({"mountain", "mountains", "peak", "peaks", "alps", "hill", "hills", "volcano", "range"}),
    "water": frozenset(
        {
            "lake",
            "ocean",
            "sea",
            "river",
            "pond",
            "beach",
            "coast",
            "bay",
            "water",
            "waves",
            "harbor",
            "harbour",
            "shore",
            "island",
        }
    ),
    "trees": frozenset({"tree", "trees", "forest", "woods", "pine", "pines", "jungle", "oak", "palm", "palms"}),
    "house": frozenset({"house", "cabin", "cottage", "home", "hut", "barn", "farmhouse", "chalet", "village"}),
    "city": frozenset(
        {
            "city",
            "skyline",
            "buildings",
            "building",
            "skyscraper",
            "skyscrapers",
            "street",
            "town",
            "downtown",
            "cyberpunk",
            "metropolis",
            "tokyo",
        }
    ),
    "birds": frozenset({"bird", "birds", "seagull", "seagulls", "flock", "eagle", "gulls"}),
    "boat": frozenset({"boat", "sailboat", "ship", "yacht", "sail", "sailing"}),
    "lighthouse": frozenset({"lighthouse", "lighthouses", "beacon"}),
    "cliff": frozenset({"cliff", "cliffs", "headland", "bluff", "crag"}),  # not "cape": a red cape is worn
    "flowers": frozenset({"flower", "flowers", "meadow", "garden", "tulips", "roses", "blossom", "blossoms"}),
    "rainbow": frozenset({"rainbow"}),
    "rain": frozenset({"rain", "rainy", "raining", "downpour"}),
    "snowfall": frozenset({"snowing", "snowfall", "snowflakes", "blizzard"}),
}

# Sky themes, first match wins; "day" when none matches.
SKIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("neon", frozenset({"neon", "cyberpunk", "synthwave", "vaporwave", "retrowave"})),
    ("night", frozenset({"night", "midnight", "moonlit", "starry", "nocturnal", "dark", "nighttime", "moon"})),
    ("sunset", frozenset({"sunset", "dusk", "evening", "twilight", "golden", "sundown"})),
    ("dawn", frozenset({"dawn", "sunrise", "morning", "daybreak"})),
    ("storm", frozenset({"storm", "stormy", "rain", "rainy", "fog", "foggy", "mist", "misty", "gloomy", "thunder"})),
)
GROUNDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("desert", frozenset({"desert", "dune", "dunes", "sand", "sandy", "sahara", "canyon", "cactus"})),
    ("snow", frozenset({"snow", "snowy", "winter", "ice", "icy", "frozen", "arctic", "glacier", "snowfall"})),
    ("beach", frozenset({"beach", "coast", "tropical", "island", "shore"})),
    ("autumn", frozenset({"autumn", "fall", "autumnal"})),
    ("forest", frozenset({"forest", "jungle", "woods", "green", "lush"})),
    ("city", frozenset({"city", "street", "downtown", "cyberpunk", "metropolis"})),
)

# sky top, sky at the horizon, how much light the ground gets
SKY_COLOURS: dict[str, tuple[RGB, RGB, float]] = {
    "day": ((58, 118, 208), (178, 214, 242), 1.0),
    "dawn": ((92, 118, 196), (255, 196, 160), 0.85),
    "sunset": ((44, 32, 96), (252, 144, 64), 0.6),
    "night": ((6, 10, 32), (34, 46, 92), 0.3),
    "neon": ((22, 4, 46), (196, 32, 150), 0.4),
    "storm": ((74, 82, 96), (150, 156, 166), 0.65),
}
# ground far (at the horizon), ground near, water
GROUND_COLOURS: dict[str, tuple[RGB, RGB, RGB]] = {
    "grass": ((112, 160, 84), (52, 108, 44), (44, 104, 170)),
    "forest": ((70, 126, 70), (28, 78, 38), (36, 92, 110)),
    "desert": ((228, 190, 124), (196, 142, 84), (60, 140, 170)),
    "snow": ((236, 242, 250), (206, 218, 236), (70, 110, 150)),
    "beach": ((236, 214, 166), (218, 190, 136), (30, 140, 180)),
    "autumn": ((176, 128, 62), (120, 74, 36), (54, 96, 130)),
    "city": ((56, 56, 72), (32, 32, 44), (30, 50, 80)),
}

_STOP_WORDS = (
    "a an the of and or in on at to with without into onto over under above below by for from its it is are be "
    "this that these those some very big small little tiny large huge giant beautiful pretty nice photo picture "
    "image painting style render rendering detailed high quality realistic photorealistic 4k 8k hd of my your "
    "his her their our as like near far behind front background foreground scene view landscape shot close up "
    "wide angle made make draw show create generate featuring full sky"
)
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[a-z][a-z'-]*")


@dataclass(frozen=True)
class Reading:
    """What the offline painter understood from a prompt."""

    sky: str
    ground: str
    objects: frozenset[str]
    colours: tuple[RGB, ...] = ()
    not_drawn: tuple[str, ...] = ()
    words: tuple[str, ...] = field(default=(), repr=False)

    @property
    def understood(self) -> bool:
        return bool(self.objects) or self.sky != "day" or self.ground != "grass" or bool(self.colours)


def words_of(prompt: str) -> tuple[str, ...]:
    return tuple(w.strip("'-") for w in _WORD.findall(prompt.lower()))


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def colour_of(word: str) -> RGB | None:
    """An RGB colour for a CSS colour name (``red``, ``gold``, ``teal``...), else None."""
    name = word.replace("-", "")
    if name not in ImageColor.colormap:
        return None
    rgb = ImageColor.getrgb(name)
    return (rgb[0], rgb[1], rgb[2])


def read(prompt: str) -> Reading:
    words = words_of(prompt)
    vocabulary = set().union(*OBJECTS.values(), *(w for _, w in SKIES), *(w for _, w in GROUNDS))
    objects = {name for name, keys in OBJECTS.items() if any(w in keys or _singular(w) in keys for w in words)}
    sky = next((name for name, keys in SKIES if keys.intersection(words)), "day")
    ground = next((name for name, keys in GROUNDS if keys.intersection(words)), "grass")
    colours: list[RGB] = []
    not_drawn: list[str] = []
    for word in words:
        if word in vocabulary or _singular(word) in vocabulary or word in _STOP or len(word) < 3:
            continue
        rgb = colour_of(word)
        if rgb is not None:
            colours.append(rgb)
        elif word not in not_drawn:
            not_drawn.append(word)
    return Reading(sky, ground, frozenset(objects), tuple(colours), tuple(not_drawn), words)


def with_defaults(reading: Reading) -> frozenset[str]:
    """The objects to draw: the ones asked for, plus what the sky theme implies when the prompt is sparse."""
    objects = set(reading.objects)
    if reading.sky in ("night", "neon") and "sun" not in objects:
        objects.add("stars")
    if reading.sky == "night" and "sun" not in objects:
        objects.add("moon")
    if reading.sky in ("sunset", "dawn") and "moon" not in objects:
        objects.add("sun")
    if reading.sky == "neon":
        objects.add("city")
    if reading.sky == "storm":
        objects.add("clouds")
    if reading.ground == "forest":
        objects.add("trees")
    if reading.ground == "beach" or "lighthouse" in objects:  # a lighthouse looks out to sea
        objects.add("water")
    if reading.ground == "city":
        objects.add("city")
    return frozenset(objects)
