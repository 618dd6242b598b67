"""Return codes: a short phrase of words that lets a visitor come back to the same case.

Plain Python, no Django. The phrase is made of simple Dutch words (easy to write down, to
remember and to type on a phone) and is shown to the visitor once. Only a keyed hash of the
normalised phrase is stored, so neither a copy of the database nor a log holds the phrase,
and guesses cannot be tested without the server's key.

Strength: four words from a list of 266 give about 5 billion (2**32) phrases. That is
enough because guesses can only be made online, a few per conversation and per source
(see services), while a stolen database without the key gives nothing to test against.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

WORDS_PER_CODE = 4

# Short, friendly, distinct Dutch words: animals, food, nature, things. None is
# frightening or rude, and none contains a space or a diacritic (easy on any keyboard).
WORDS: tuple[str, ...] = tuple(
    """
    aap appel arend bal banaan beer berg bij bloem boek boom boot brood bus cactus citroen
    dak das deur dolfijn draak druif duif eend egel eik ezel fiets fluit gans geit gitaar
    haai haan haas hamer hert hoed hond honing huis ijs inkt jas kaars kaas kam kameel
    kanarie kast kat kerk kers kikker kip kiwi klok koe koekje kom konijn kraai krab kreeft
    kroon kruik laars lamp leeuw lepel lijster lucht maan mais mango meer meeuw mier
    mol molen mossel muis mus muts neus noot oester olifant oven pad pan panda papegaai
    pauw peer pen pinguin pizza plant pluim pony pop potlood pruim raaf raam regen reiger
    rivier robot roos rups schaap schelp schip sjaal slak sleutel slang sneeuw soep spin
    spons ster stoel storm strand suiker tafel taart tas thee tijger tomaat toren tractor
    trein trui tulp uil vaas vis vlag vlinder vogel vos wafel walvis wolk wortel zebra zee
    zeehond zon zwaan zwaluw anker baard beker bever bezem blad bliksem bolder bord bos
    brug bult deken dijk doos duin dweil emmer fazant flamingo fles forel gieter glas gras
    grot haring hek heuvel hooi horloge iglo jurk kabel kano kapstok karper kasteel kegel
    ketel kever kiezel kist klei knoop koffer kompas koraal korf kous kraan krekel kwal
    ladder lama lantaarn lelie liniaal loep maki mand mantel mees merel motor mug narcis
    net oever orgel otter paard palm parel pet pijl plank plas poema pomp pompoen puzzel
    radijs ridder riet ring rog sla sok spiegel sprinkhaan staart stempel stier
    stok stro tak tent tol trom tuin ui vaatdoek veer vijg vink vork vuur wiel wilg
    """.split()  # noqa: SIM905 (a word list reads better as one block of text)
)

# Words that were handed out once but no longer are: "kus" (kiss) and "sabel" (sabre) do
# not belong in a phrase given to someone who is being exploited. Codes already given
# keep working, so they are still accepted.
RETIRED: frozenset[str] = frozenset({"kus", "sabel"})

_SEPARATORS = re.compile(r"[\s\-_.,;:/]+")


def generate() -> str:
    """A new phrase, words joined by hyphens, from the operating system's random source."""
    return "-".join(secrets.choice(WORDS) for _ in range(WORDS_PER_CODE))


def normalise(phrase: str) -> str:
    """The canonical form of what a visitor typed: lower case, accents removed, words
    separated by single hyphens (spaces, dots and other separators are all accepted)."""
    text = unicodedata.normalize("NFKD", phrase)
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    return "-".join(word for word in _SEPARATORS.split(text) if word)


def looks_valid(phrase: str) -> bool:
    """Whether a normalised phrase has the shape of a code (checked before any lookup)."""
    words = phrase.split("-")
    return len(words) == WORDS_PER_CODE and all(word in _WORD_SET for word in words)


def digest(phrase: str, *, key: bytes) -> str:
    """The stored form of a phrase: HMAC-SHA256 under the server's key, in hex.

    Precondition: ``phrase`` is normalised.
    """
    return hmac.new(key, phrase.encode("utf-8"), hashlib.sha256).hexdigest()


_WORD_SET = frozenset(WORDS) | RETIRED
