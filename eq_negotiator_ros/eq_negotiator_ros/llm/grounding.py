"""Whether the model's acknowledgment stays with what the person said.

A 270M model acknowledging "my wife is in hospital" will happily say "I'm sorry you're in
hospital" or "and your car too". The reply guard checks conduct and numbers; this module checks
facts: a *fact word* (a relative, an illness, a job, a possession, a legal or money matter, a day
or month) that the model says but the debtor never said is an invented fact. Used twice: the
reply pipeline drops a model sentence that invents one (llm/phrasing.py), and the reply benchmark
counts them (scripts/bench_replies.py).

Word matching is by a light stem (plural and -ed/-ing endings), so "hours" matches "hour" and
"laid off" matches "lay off" only where both forms are listed; and by word family, so a word and
the same word with a person-making suffix are one fact ("police" for a "policeman", "pension"
for a "pensioner": acknowledging the person's words in a near form invents nothing). The lexicon
is general (kinds of fact a debtor states), not taken from the reply corpus; words that are mostly
something else in speech stay out ("check" the verb, "may" the modal).
"""

from __future__ import annotations

import re
from typing import Iterable

__all__ = ["FACT_WORDS", "ALLOWED_WORDS", "invented_facts", "turned_back", "grounded_share", "content_words"]

FACT_WORDS: frozenset[str] = frozenset(
    """
wife husband partner mother mum mom father dad son daughter child children kid kids baby newborn brother
sister grandmother grandfather grandma grandpa granny grandparent grandparents grandson granddaughter
grandchild grandchildren parent parents stepfather stepmother uncle aunt cousin nephew niece family fiance
girlfriend boyfriend friend relative relatives neighbour neighbor boss landlord pensioner widow hospital
surgery operation
illness sick injury injured cancer doctor nurse flu infection accident disease pregnant pregnancy funeral
died death dead passed disabled disability depression therapy medication job fired laid redundant unemployed
shift shifts hours wages salary paycheck bonus contract business shop cafe restaurant company employer
factory warehouse hotel garage bakery farm crops office army deployed deployment car van motorbike truck
boat house flat apartment rent mortgage loan bank cheque refund tax taxes benefit benefits pension savings
inheritance lottery casino insurance visa papers divorce marriage flood fire storm scam scammed stolen theft
identity dog cat horse pet vet school college university fees tuition lawyer attorney court police judge
ombudsman regulator complaint journalist councillor newspaper monday tuesday wednesday thursday friday
saturday sunday weekend tomorrow yesterday tonight january february march april june july august september
october november december christmas holiday
""".split()
)

# Words an acknowledgment may use without the debtor having said them: how people acknowledge.
ALLOWED_WORDS: frozenset[str] = frozenset(
    """
hear heard understand understood sorry thanks thank appreciate glad know see sounds sound seems feel feels
felt must hard difficult tough real really right okay alright well sure good fair clear care caring
listening telling told saying said mean means situation things thing lot much everything anything something
time moment way help helps helpful make makes work working talk talking call money pressure stress stressful
worry worried worrying frustrating frustrated upset angry strongly point view position want wants like idea
mind first come comes last still going get getting take taking matter matters happen happened sort settle
account right now
""".split()
)

_STOP = frozenset(
    """
i me my we us our you your yours he him his she her it its they them their this that these those a an the
and or but if so as of to in on at for with from by about into over after before up down out off than then
there here is are was were be been being am do does did done have has had having will would can could should
may might shall not no nor yes just also too very only even more most less least some any all each every
both own same what which who whom whose when where why how let let's i'm i've i'll i'd you're you've you'll
you'd we're we've we'll it's that's there's what's don't can't won't isn't aren't wasn't didn't doesn't
haven't hasn't couldn't
""".split()
)

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _stem(word: str) -> str:
    for suffix in ("ies", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'")) if isinstance(text, str) else []


def content_words(text: str) -> list[str]:
    """Lower-case words of `text` that carry content (not function words)."""
    return [w for w in _words(text) if w not in _STOP]


# Suffixes that make a person (or a person's state) of a word: with one of them, two words are the
# same fact. Only on stems of FAMILY_MIN_LETTERS or more, so short words do not match by accident.
FAMILY_SUFFIXES = ("man", "men", "woman", "women", "er", "ers", "or", "ors", "ist", "ists", "hood")
FAMILY_MIN_LETTERS = 5


def _same_family(word: str, other: str) -> bool:
    short, long = sorted((word, other), key=len)
    return (
        len(short) >= FAMILY_MIN_LETTERS and long.startswith(short) and long[len(short) :] in FAMILY_SUFFIXES
    )


def invented_facts(sentence: str, heard: Iterable[str]) -> list[str]:
    """Fact words in `sentence` that none of the `heard` texts (the debtor's words) contains, as
    the same stem or the same word family."""
    heard_words = {w for text in heard for w in _words(text)}
    heard_stems = {_stem(w) for w in heard_words}
    return [
        w
        for w in _words(sentence)
        if w in FACT_WORDS
        and _stem(w) not in heard_stems
        and not any(_same_family(w, h) for h in heard_words)
    ]


# "you" as the subject of what the person said: at the start of a sentence or clause. Their "you"
# is the agent; the same words said back make the person their subject ("You're nothing but a
# vulture." acknowledged as "I take it to heart that you're nothing but a vulture.").
_SUBJECT_YOU = re.compile(
    r"(?:^|[.!?,;:]\s*"
    r"|\b(?:and|but|because|so|if|when|that|cause|know|think|guess|bet|feel|say|said|believe|hope|wish)\s+)"
    r"(you(?:'[a-z]+)?(?:\s+[a-z']+){2})"
)


# What the person called the agent: a short clause of its own that is "you" and a name, with or
# without "are" ("You bloodsucking vulture.", "Listen, you leech, ...", "You're nothing but a crook.").
_CALLED = re.compile(
    r"(?:^|[.!?,;:]\s*)you(?:'re|\s+are)?\s+(?:nothing\s+but\s+|just\s+|such\s+)?(?:an?\s+|the\s+)?"
    r"([a-z'-]+(?:\s+[a-z'-]+){0,2})\s*(?=[.!?,;:]|$)"
)
# A name given to someone in the reply: "you're a ...", "I'm the ...", "we are such a ...".
_LABEL = re.compile(
    r"\b(?:you|i|we|they)(?:'re|'m|\s+are|\s+am)\s+(?:not\s+)?(?:nothing\s+but\s+|just\s+|such\s+)?"
    r"(?:an?|the)\s+((?:[a-z'-]+\s+){0,2}[a-z'-]+)"
)


def _names_called(heard: Iterable[str]) -> set[str]:
    """Stems of the content words of what the person called the agent."""
    names: set[str] = set()
    for text in heard:
        lowered = text.lower().replace("\u2019", "'") if isinstance(text, str) else ""
        for match in _CALLED.finditer(lowered):
            names.update(_stem(w) for w in content_words(match.group(1)))
    return names


def turned_back(sentence: str, heard: Iterable[str]) -> str | None:
    """The first thing the person said of the agent ("you're nothing but ...", "you people ruin")
    that `sentence` says back word for word, three words or more, or a name they called the agent
    ("You bloodsucking vulture.") that `sentence` gives anyone ("you're a vulture", "I'm the
    vulture"); None when there is neither."""
    heard = list(heard)
    said = " ".join(_words(sentence))
    for text in heard:
        lowered = text.lower().replace("\u2019", "'") if isinstance(text, str) else ""
        for match in _SUBJECT_YOU.finditer(lowered):
            phrase = " ".join(_words(match.group(1)))
            if re.search(rf"\b{re.escape(phrase)}\b", said):
                return phrase
    names = _names_called(heard)
    for match in _LABEL.finditer(sentence.lower().replace("\u2019", "'")):
        if any(_stem(w) in names for w in content_words(match.group(1))):
            return match.group(0)
    return None


def grounded_share(sentence: str, heard: Iterable[str]) -> float:
    """Share of the content words of `sentence` that the debtor said or that are in ALLOWED_WORDS
    (1.0 for a sentence without content words)."""
    heard_stems = {_stem(w) for text in heard for w in _words(text)}
    allowed = {_stem(w) for w in ALLOWED_WORDS}
    words = content_words(sentence)
    if not words:
        return 1.0
    return sum(_stem(w) in heard_stems or _stem(w) in allowed for w in words) / len(words)
