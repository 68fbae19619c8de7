"""The reply guard: every sentence the language model produces is checked before it is spoken.

Strategy lives in code, words live in the model (README, "How the agent decides"): the Directive
fixes the terms, so a reply is rejected when it

* is empty, too long, garbage or not English;
* states a number other than the decided terms. Allowed: the offer's days (in digits or words, or
  as an exact number of weeks or months: 28 days = "4 weeks", 60 days = "two months") and the
  up-front amount. Nothing else, not even the outstanding balance: the Directive does not carry it,
  and a wrong balance said aloud is worse than none. "one" and "zero" alone are words, not terms;
* threatens (arrest, jail, police, violence, telling the employer or the family, "we know where you
  live", seizing the home or car);
* insults or swears, or shouts (words in capitals);
* offers physical affection or endearments ("hugs", "sweetheart"): a robot that hugs someone it
  is collecting a debt from is neither honest nor respectful;
* makes legal claims (suing, court, criminal charges, "it is illegal not to pay"): a small model
  cannot state the law of the debtor's country correctly, so the agent makes none;
* reveals how it works (prompt, system, instructions, "as an AI", persona, policy, hidden state);
* signs off like a letter ("Warm regards, Alex."): a spoken reply has no sign-off, and the name
  would be one the agent made up;
* leaves the creditor's role: speaks as the debtor or as a transcript speaker, cancels or forgives
  the debt, promises what was not decided (discounts, waived fees, guarantees), or speaks of an
  agreement ("we have a deal", "agreed") when the Directive's intent is not "accept".

Pure and fast (regular expressions on one sentence): it runs on every sentence while streaming.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..eq.extraction import UNIT_DAYS_BY_INITIAL, words_to_digits
from ..eq.records import Directive

# A spoken reply is two or three sentences; longer output is the model rambling.
MAX_REPLY_CHARS = 600
# Share of letters that must be Latin, and of words that must look like English words.
MIN_LATIN_SHARE = 0.95
MIN_WORDLIKE_SHARE = 0.6


@dataclass(frozen=True)
class GuardVerdict:
    ok: bool
    reason: str = ""  # empty when ok; otherwise what was wrong, for logs and the fallback record


OK = GuardVerdict(True, "")


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_THREAT = _any(
    r"\b(?:arrest(?:ed)?|jail|prison|handcuff\w*|police|cops?|sheriff|bailiffs?|deport\w*)\b",
    r"\b(?:hurt|harm|kill|beat|punch|break)\s+(?:you|your)\b|\bviolen\w*|\bregret\s+it\b|\bor\s+else\b",
    r"\bwe\s+know\s+where\s+you\s+(?:live|work)\b|\bwe(?:'ll|\s+will)\s+find\s+you\b|\bvisit\s+your\s+(?:home|house)\b",
    r"\b(?:tell|inform|call|contact|notify|email|text|phone|reach\s+out\s+to)\s+(?:\w+\s+)?(?:your\s+)?"
    r"(?:employer|boss|manager|workplace|colleagues|co-?workers|family|wife|husband|partner|parents|children|kids|neighbou?rs|friends)\b",
    r"\b(?:seize|take|repossess|confiscate)\s+(?:\w+\s+)?(?:your\s+)?(?:house|home|car|property|belongings|wages|salary|kids|children)\b",
    r"\bpublic(?:ly)?\s+shame\b|\bembarrass\s+you\b|\bruin\s+(?:you|your)\b",
)
_ABUSE = _any(
    r"\b(?:idiot|stupid|moron|dumb|loser|deadbeat|liar|pathetic|useless|worthless|scum|fool|"
    r"parasite|freeloader|bum|thief|crook|cheat)\b",
    # "lazy" said of a person ("you're so lazy", "too lazy to pay"), not of an afternoon
    r"\b(?:you(?:'re|\s+are|\s+were)?|people|so|too|being|plain)\s+(?:\w+\s+)?lazy\b|\blazy\s+(?:people|person|sod|git)\b",
    r"\b(?:fuck\w*|f\*+k|shit\w*|bullshit|damn\w*|bitch\w*|bastard\w*|asshole\w*|crap|piss\w*|hell|dick|cunt|wtf)\b",
    r"\bshut\s+up\b|\bget\s+lost\b|\bhow\s+dare\s+you\b",
)
_LEGAL = _any(
    r"\bsu(?:e|ed|ing)\b|\blaw\s*suits?\b|\bcourts?\b|\bjudge\b|\blitigation\b|\blegal\s+(?:action|proceedings?|steps)\b",
    r"\bcriminal\w*\b|\bcrime\b|\billegal\w*\b|\bunlawful\b|\bagainst\s+the\s+law\b|\bprosecut\w*|\bwarrant\b|\bcharges?\s+against\b",
    r"\b(?:our|my)\s+(?:lawyers?|attorneys?|solicitors?)\b|\bgarnish\w*",
)
_LEAK = _any(
    r"\b(?:system|user)\s+prompt\b|\bprompts?\b|\b(?:my|your|the\s+system|these|internal|hidden)\s+instructions\b|\binstructed\b",
    r"\bas\s+an\s+ai\b|\bi\s+am\s+an\s+ai\b|\bi'?m\s+an\s+ai\b|\blanguage\s+model\b|\bchat\s*bot\b|\bai\s+assistant\b|\bprogrammed\b",
    r"\bpersonas?\b|\bdirectives?\b|\bhidden\s+state\b|\bbelief\b|\bpolicy\s+(?:branch|name)\b|\bwsls\b|\bwin[-\s]stay\b|\bhmm\b",
    r"\bintent\s*[:=]|\btemperature\b|\bmy\s+(?:emotion|tone)\s+(?:is|was)\s+set\b",
)
_AFFECTION = _any(
    r"\bhug(?:s|ged|ging)?\b|\bcuddl\w*|\bkiss(?:es|ed|ing)?\b|\bxox\w*",
    r"\b(?:sweetheart|darling|sweetie|honey|babe|my\s+love|love\s+you)\b",
)
# Two or more words in capitals, half the words of the sentence or more: shouting when spoken.
_CAPITALS = re.compile(r"\b[A-Z]{2,}(?:'[A-Z]+)?\b")
_LETTER_WORDS = re.compile(r"\b[^\W\d_]{2,}")
_SIGN_OFF = _any(
    r"\b(?:warm|warmest|kind|kindest|best|many)\s+regards\b|^\s*regards\b|\bsincerely\b",
    r"\byours\s+(?:truly|faithfully|sincerely)\b|\b(?:best|warm|warmest)\s+wishes\s*,",
)
_SPEAKER_LABEL = re.compile(
    r"(?:^|\s)(?:debtor|customer|user|agent|creditor|assistant|caller|system)\s*(?:\([^)]*\))?\s*:", re.I
)
_DEBTOR_SPEAK = _any(
    r"\bi\s+(?:can'?t|cannot|can\s+not)\s+(?:afford|pay)\b|\bi\s+(?:lost|have\s+lost)\s+my\s+job\b",
    r"\bmy\s+(?:debt|loan|bills?|balance|creditors?)\b|\bi\s+owe\b|\bgive\s+me\s+(?:more\s+)?time\b",
    r"\bi\s+need\s+more\s+time\b|\bi\s+(?:will|'ll)\s+pay\s+you\b|\bplease\s+be\s+patient\s+with\s+me\b",
    r"\b(?:i|we)\s+(?:have|need)\s+to\s+pay\s+(?:the|my|our)\b|\bmy\s+(?:next\s+)?pay\s*(?:check|day)\b|\bmy\s+salary\b",
    r"\b(?:do\s+not|don'?t)\s+(?:contact|call)\s+me\b|\bwe\s+can'?t\s+afford\b",
    r"\bi\s+(?:can|will|could|hope\s+to|want\s+to|'ll)\s+(?:be\s+able\s+to\s+)?(?:re)?pay\b|\brepay\s+me\b",
    # the payer's history told in the first person ("I've been paying you back in full")
    r"\bi(?:'ve|\s+have)?\s+(?:been\s+)?(?:paying|paid|repaying|repaid)\s+(?:you|it|this|the\s+\w+|my|in\s+full|back)\b",
    r"\b(?:paying|pay|paid)\s+you\s+back\b",
)
_FORGIVE = _any(
    r"\b(?:cancel|forgive|waive|erase|wipe|write\s+off|written\s+off|clear|drop|void)\w*\s+(?:\w+\s+)?(?:the\s+|your\s+|this\s+)?(?:debt|balance|loan|amount|account)\b",
    r"\b(?:debt|balance|loan)\s+(?:is|has\s+been|will\s+be)\s+(?:\w+\s+)?(?:cancel+ed|forgiven|waived|cleared|written\s+off|void)\b",
    r"\b(?:don'?t|do\s+not|won'?t|will\s+not)\s+(?:have|need)\s+to\s+pay\b|\bno\s+need\s+to\s+pay\b|\b(?:owe|pay)\s+(?:us\s+)?nothing\b",
    r"\bforget\s+(?:about\s+)?(?:the|your)\s+(?:debt|balance|payment)\b",
)
_PROMISE = _any(
    r"\b(?:waive|reduce|lower|cut|drop|remove|discount)\w*\s+(?:\w+\s+)?(?:the\s+|your\s+|any\s+|all\s+)?(?:interest|fees?|charges?|penalt\w+|balance|amount|price)\b",
    r"\bdiscount\w*\b|\binterest[-\s]free\b|\bno\s+(?:extra\s+|additional\s+|hidden\s+)?(?:interest|fees?|penalt\w+|charges?|costs?)\b|\brefund\w*\b|\bguarantee\w*\b|\bi\s+promise\b",
    r"\bwe\s+can\s+(?:always\s+)?extend\s+(?:it\s+)?(?:further|later|again)\b|\bas\s+(?:long|much)\s+as\s+you\s+(?:need|want|like)\b",
    r"\b(?:any|whatever)\s+(?:time|date|amount)\s+(?:you|that)\s+(?:want|like|need|suits)\b|\bno\s+(?:rush|hurry|deadline)\b",
)
_ACCEPTANCE = _any(
    r"\b(?:it'?s|we\s+have|you\s+have|you'?ve\s+got)\s+a\s+deal\b|\bdeal\s*[!.]|\bagreed\b",
    r"\b(?:i|we)\s+(?:will\s+|can\s+|happily\s+|gladly\s+)?accept\s+(?:your|that|this|the)\b",
)

_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(k\b)?(?:\s*-?\s*(days?|weeks?|months?|years?|fortnights?))?")
_CURRENCY_BEFORE = re.compile(r"(?:\$|usd|€|£)\s?$")
_CURRENCY_AFTER = re.compile(r"\s*(?:dollars?|bucks|usd|euros?|pounds?|%|percent)")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_VOWEL = re.compile(r"[aeiouy]")
_LATIN = re.compile(r"[a-z]")
_LETTER = re.compile(r"[^\W\d_]")
_COMMON = frozenset(
    """i you we your our us the a an to of in on at for with and or but not is are be can will would
    could this that it days day weeks months payment pay plan offer understand thank thanks please let
    me know can we work together today time amount what how i'm it's that's so have has had been
    was were do does did just more about from as by if up out all my no yes there here very good
    great news sorry things thing much many some any other now then than when where who which why
    help find way sure right well also only still again one two get make take see go going want
    need like agree agreement account balance repay repayment settle terms""".split()
)
_HALF = re.compile(r"\bhalf\s+(?:a|an)\s+(year|month)\b")


def _numbers_ok(text: str, directive: Directive) -> GuardVerdict:
    offer_days = int(directive.offer.days)
    upfront = float(directive.offer.upfront_amount or 0.0)
    normalised = words_to_digits(_HALF.sub(lambda m: "182 days" if m.group(1) == "year" else "15 days", text))
    normalised = re.sub(r"(?<=\d),(?=\d{3}\b)", "", normalised)
    normalised = re.sub(r"\b(?:a|an)\s+(day|week|month|year|fortnight)\b", r"1 \1", normalised)
    for match in _NUMBER.finditer(normalised):
        value = float(match.group(1)) * (1000 if match.group(2) else 1)
        unit = match.group(3)
        after = normalised[match.end() :]
        currency = bool(_CURRENCY_BEFORE.search(normalised[: match.start()])) or (
            unit is None and bool(_CURRENCY_AFTER.match(after))
        )
        if re.match(r"\s*(?:%|percent)", after):
            return GuardVerdict(
                False, f"states a percentage ({match.group(0).strip()}%) that was not decided"
            )
        if unit is not None:
            days = value * UNIT_DAYS_BY_INITIAL[unit[0]]
            if abs(days - offer_days) > 1e-9:
                return GuardVerdict(
                    False, f"states {match.group(0).strip()} but the offer is {offer_days} days"
                )
            continue
        if currency:
            if upfront <= 0 or abs(value - upfront) > 0.005:
                return GuardVerdict(
                    False,
                    f"states an amount ({match.group(0).strip()}) that is not the decided up-front amount",
                )
            continue
        if value <= 1 and value == int(value):
            continue  # "one" and "zero" are words here ("this one", "no one"), not terms
        if abs(value - offer_days) > 1e-9 and not (upfront > 0 and abs(value - upfront) <= 0.005):
            return GuardVerdict(
                False, f"states the number {match.group(0).strip()}, which is not in the decided terms"
            )
    return OK


def _looks_like_english(text: str) -> GuardVerdict:
    letters = _LETTER.findall(text)
    if not letters:
        return GuardVerdict(False, "no words")
    if len(_LATIN.findall(text)) / len(letters) < MIN_LATIN_SHARE:
        return GuardVerdict(False, "not English")
    words = _WORD.findall(text)
    if not words:
        return GuardVerdict(False, "no words")
    wordlike = [w for w in words if _VOWEL.search(w) and len(w) <= 20 and not re.search(r"(.)\1\1", w)]
    if len(wordlike) / len(words) < MIN_WORDLIKE_SHARE:
        return GuardVerdict(False, "garbage (too few word-like tokens)")
    if len(words) >= 3 and not any(w in _COMMON for w in words):
        return GuardVerdict(False, "not English (no common English word)")
    if len(words) >= 6 and len(set(words)) / len(words) < 0.4:
        return GuardVerdict(False, "garbage (repeats itself)")
    return OK


def check_reply(text: str, directive: Directive) -> GuardVerdict:
    """Whether a reply (or one sentence of it) may be spoken for this Directive; see the module
    docstring for the rules. Never raises."""
    if not isinstance(text, str) or not text.strip():
        return GuardVerdict(False, "empty reply")
    if len(text) > MAX_REPLY_CHARS:
        return GuardVerdict(False, f"too long ({len(text)} characters, at most {MAX_REPLY_CHARS})")
    capitals = len(_CAPITALS.findall(text))
    if capitals >= 2 and capitals >= 0.5 * len(_LETTER_WORDS.findall(text)):
        return GuardVerdict(False, "shouts (words in capitals)")
    lowered = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    verdict = _looks_like_english(lowered)
    if not verdict.ok:
        return verdict
    checks = (
        (_THREAT, "threatens"),
        (_ABUSE, "abusive or profane"),
        (_AFFECTION, "offers physical affection or endearments"),
        (_LEGAL, "makes a legal claim"),
        (_LEAK, "reveals internal instructions"),
        (_FORGIVE, "cancels or forgives the debt"),
        (_PROMISE, "promises terms that were not decided"),
        (_DEBTOR_SPEAK, "speaks as the debtor"),
        (_SIGN_OFF, "signs off like a letter"),
    )
    for pattern, reason in checks:
        match = pattern.search(lowered)
        if match:
            return GuardVerdict(False, f"{reason} ({match.group(0).strip()!r})")
    if _SPEAKER_LABEL.search(lowered):
        return GuardVerdict(False, "leaves the creditor's role (writes a transcript speaker)")
    if directive.intent != "accept":
        match = _ACCEPTANCE.search(lowered)
        if match:
            return GuardVerdict(
                False,
                f"accepts terms although the decision is to {directive.intent} ({match.group(0).strip()!r})",
            )
    return _numbers_ok(lowered, directive)
