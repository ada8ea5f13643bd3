"""What kind of answer a question wants, and whether a sentence has that shape.

Classic question answering before neural readers: "what causes X" wants a sentence that states a cause,
"how long" wants a duration. Each rule is a general pattern of English questions and answers, not a list
of this corpus's sentences; a match gives a sentence a small bonus, never an answer by itself.
"""
from __future__ import annotations

import re

from ingest.lexical import stem_word

_ANSWER_TYPES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "cause": (
        re.compile(r"\b(?:what|which)\b[^?]*\b(?:causes?|caused|triggers?|leads? to|brings? on)\b|"
                   r"\bcauses? of\b|\bwhat\b(?: \w+)? makes?\b", re.I),
        re.compile(r"\b(?:caus\w*|trigger\w*|due to|results? (?:from|in)|occurs? when|happens? when|leads? to|"
                   r"because|contribut\w*|drives?|responsible for|stems? from|arise from)\b", re.I),
    ),
    # "why does MS cause spasticity" wants the mechanism, not any sentence saying "cause"; so does "what goes wrong
    # in the nerves" and "what happens in the body to make a muscle twitch" (not "what happens when ..."). A passive
    # "is caused by" explains; "fasciculations caused by ALS will be accompanied by ..." only says which ones.
    "explanation": (
        re.compile(r"\bwhy\b|\bhow come\b|\breasons?\b|\bhow does\b.*\b(?:cause|happen|make|work)\b|"
                   r"\bwhat\b(?: \w+)? (?:goes on|is going on|goes wrong|has gone wrong)\b|"
                   r"\bwhat\b(?: \w+)? happens\b.*\bto (?:make|cause)\b", re.I),
        re.compile(r"\b(?:due to|because|results? (?:from|in)|as a result of|"
                   r"(?:be|is|are|was|were|been)(?: not| \w+ly)? caused by|occurs? when|happens? when|"
                   r"stems? from|arises? from|originat\w* (?:from|in)|which is why|that is why|is thought to be|"
                   r"believed to (?:be|arise)|in other words|so that)\b", re.I),
    ),
    "count": (
        re.compile(r"\bhow many\b(?!\s+(?:people|patients|mg|milligrams?|hours?|days?|times?))", re.I),
        re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|several)\b", re.I),
    ),
    "definition": (
        # "what is clonus", not "what are the symptoms of MS" (a question about a part of something)
        # also "what exactly is a fasciculation?", a message that opens with the question, and one asking a second
        # thing after it ("what is clonus, and is it dangerous?")
        re.compile(r"(?:^|[.?!]\s+|^so\s+)(?:what|who)"
                   r"(?:['’]s|s|\s+(?:exactly\s+|actually\s+|really\s+)?(?:is|are))\s+(?:a |an |the )?"
                   r"(?![\w\s'-]*\b(?:of|for|in|with|between|difference|vs|chances?)\b)"
                   r"[\w\s'-]{1,40}(?:\?|\s*$|\s*,\s*(?:and|or|also|plus|but)\b|\s*;)|"
                   r"\bwhat (?:is|are) (?:a |an |the )?[\w'-]+(?: [\w'-]+)? exactly\b|"
                   r"\bwhat does\b.*\bmean\b|\bdefin\w*|\bmeaning of\b", re.I),
        re.compile(r"\b(?:is|are) (?:a|an|the)\b|\bdescribes?\b|\brefers? to\b|\binvolves?\b|, or [a-z]|"
                   r"\balso known\b|\bmedically termed\b|\bcharacteri[sz]ed by\b|\bis when\b", re.I),
    ),
    "time": (
        re.compile(r"\bhow (?:long|fast|quickly|soon)\b|\bwhen (?:do|does|will|did)\b|\bat what age\b|\bhow old\b|"
                   r"\blast\b", re.I),
        re.compile(r"\b(?:\d+|one|two|three|four|five|few|several)\b.{0,25}\b(?:seconds?|minutes?|hours?|days?|"
                   r"weeks?|months?|years?)\b|\bage\b|\bshort-lived\b|\bquickly\b|\bshortly\b|\btransient\b|"
                   r"\bcome and go\b", re.I),
    ),
    # "when should I see a doctor", also asked as "get it looked at", "get checked out", "need medical attention"
    "doctor": (
        re.compile(r"\b(?:when|should)\b.*\b(?:worr\w*|see|call|contact|concern\w*|doctor)\b|\bsee a doctor\b|"
                   r"\b(?:looked at|check(?:ed)? out|checked over|get (?:it|this|that|them) checked|"
                   r"medical (?:help|attention|advice))\b", re.I),
        re.compile(r"\b(?:see|contact|consult\w*|check with|seek|call)\b.{0,40}\b(?:doctor|provider|professional|"
                   r"evaluation|medical)\b", re.I),
    ),
    # "what medicines do doctors give for stiffness", not "which medicines cause twitching as a side effect"
    "treatment": (
        re.compile(r"\b(?:stop|treat\w*|get rid|relieve|manage|reduce|help|therap\w*|cure|prevent)\b|"
                   r"\b(?:medicines?|medications?|meds|drugs?|pills?)\b(?![^?]*\b(?:causes?|side effects?)\b)", re.I),
        re.compile(r"\b(?:treat\w*|stop|therap\w*|relax\w*|avoid|medications?|relaxants?|massage|tips|manag\w*|"
                   r"limit\w*|intervention)\b", re.I),
    ),
    "diagnosis": (
        re.compile(r"\b(?:diagnos\w*|tests?|testing|scans?|mri|exam\w*|rule out)\b", re.I),
        re.compile(r"\b(?:tests?|scans?|imaging|mri|electromyogra\w*|exam\w*|diagnos\w*|criteria)\b", re.I),
    ),
    "prognosis": (
        re.compile(r"\blife expectancy\b|\bsurviv\w*|\bprognosis\b|\boutlook\b|\bhow long\b.*\blive\b|\bfatal\b|"
                   r"\bdie of\b", re.I),
        re.compile(r"\bsurviv\w*|\blife expectancy\b|\bprognosis\b|\boutlook\b|\blive\b.{0,40}\byears?\b|"
                   r"\bfatal\b|\bdeath\b|\blate stage\b", re.I),
    ),
    "location": (
        re.compile(r"\bwhere\b|\b(?:which|what) (?:part|parts|area|areas|muscles?|limbs?|side)\b|"
                   r"\bpart of (?:the|my|your) body\b", re.I),
        re.compile(r"\b(?:legs?|arms?|hands?|feet|foot|face|eyelids?|eyes?|calf|calves|thumbs?|fingers?|toes?|"
                   r"back|trunk|tongue|neck|shoulders?|thighs?|knees?|hips?|lips?|jaw|chest|abdomen|spinal cord|"
                   r"brain|joints?|one side)\b", re.I),
    ),
    "frequency": (
        re.compile(r"\bhow (?:common|often|frequent\w*|rare|likely|many people)\b|\bpercent\w*\b|\bprevalen\w*|"
                   r"\bchances?\b", re.I),
        re.compile(r"\d+\s?%|\bpercent\b|\bin (?:\d+|one|two|three|four|five) (?:out of|in)\b|\b(?:common|rare|"
                   r"rarely|uncommon|frequent\w*|often|most|majority|few)\b|\bup to\b", re.I),
    ),
    # "clonus vs fasciculations", "how do you tell them apart": a sentence that sets the two side by side
    "comparison": (
        re.compile(r"\b(?:difference|differ\w*|diff|vs|versus|compared? (?:to|with)|the same (?:thing|as)|"
                   r"tell\b.{0,20}\bapart|distinguish\w*)\b", re.I),
        re.compile(r"\b(?:difference|differs?|different from|unlike|whereas|not (?:quite )?the same|in contrast|"
                   r"rather than|compared (?:to|with)|distinguish\w*|as opposed to)\b", re.I),
    ),
    "symptoms": (
        re.compile(r"\b(?:symptoms?|signs?|feel like|look like)\b", re.I),
        re.compile(r"\bsymptoms?\b.{0,30}\binclude\b|\bfeels? like\b|\blooks? like\b|\bexperience\b", re.I),
    ),
}


def answer_types(question: str) -> list[str]:
    """Names of the answer types the question asks for (possibly none)."""
    return [name for name, (asks, _) in _ANSWER_TYPES.items() if asks.search(question)]


def has_answer_shape(types: list[str], text: str) -> bool:
    """True when ``text`` reads like an answer of one of ``types``."""
    return any(_ANSWER_TYPES[name][1].search(text) for name in types)


# Question words that ask for an answer type instead of naming a topic: a span of that type's shape answers them
# ("why does MS cause spasticity" is answered by "It results from disrupted signals", which never says "cause";
# "what is the life expectancy with ALS" by "the average survival time is about two to five years", "how common
# is twitching in MS" by "Fasciculations are rarely a symptom of MS"). Ranking only: the confidence still counts
# such a word the corpus lacks ("expectancy") as unknown, which keeps "life expectancy in MS" unanswered.
_ASKING_STEMS = {name: frozenset(stem_word(w) for w in words.split()) for name, words in {
    "cause": "cause trigger", "explanation": "cause reason", "prognosis": "life expectancy survival prognosis outlook",
    "time": "long", "frequency": "common often frequent likely",
    "comparison": "difference differ diff versus compare distinguish apart same",
}.items()}


def answered_stems(types: list[str], text: str) -> frozenset[str]:
    """Stems of the question words asking for one of ``types`` that ``text`` answers by its shape."""
    return frozenset().union(*(_ASKING_STEMS[t] for t in types if t in _ASKING_STEMS and has_answer_shape([t], text)))


# Stricter than the definition answer shape above: what a sentence that defines its subject says ("Clonus
# describes", "Fasciculations, or muscle twitches,"); "is a" alone is not enough ("Fasciculations are a hallmark").
_DEFINING = re.compile(r"\b(?:describes?|refers? to|is defined|are defined|means|involves?|is when|is the term|"
                       r"characteri[sz]ed by|also known as|medically termed|better known as)\b|, or [a-z]", re.I)


# a name given with its abbreviation, then what it is: "Multiple Sclerosis (MS) is a chronic, autoimmune disease"
_NAMED_AS = re.compile(r"^[^.,;:()]{2,60}\((?-i:[A-Z]{2,5})\)\s+(?:is|are)\s+(?:a|an)\b", re.I)


def defines(sentence: str) -> bool:
    """True when ``sentence`` reads like a definition of what it names (the ranker's ``defines`` feature)."""
    return bool(_DEFINING.search(sentence) or _NAMED_AS.search(sentence))


# a word, a dash, and what it is: "diseases that affect the lower motor neurons—nerve cells originating in the
# spinal cord", "ALS affects motor neurons — nerves that control your voluntary muscles"; not an aside
# ("muscle twitching—although this is rare")
_APPOSITION = re.compile(r"([^\W\d_]+)\s*[—–]\s*(?!(?:although|though|but|and|or|which|who|whose|where|when|while|"
                         r"especially|even|not|this|that|these|those|it|so|as|if)\b)[a-z]")


def describes_after_dash(sentence: str, stems: set[str]) -> bool:
    """True when a word whose stem is in ``stems`` is followed by a dash and a description of it, wherever it
    stands in ``sentence`` (which ``defines`` asks of a sentence's opening words)."""
    return any(stem_word(match.group(1).lower()) in stems for match in _APPOSITION.finditer(sentence))


_LIST_QUESTION = re.compile(
    r"\b(?:what|which)\b.*\b(?:are|causes|conditions|symptoms|signs|triggers|types|ways|tips|things|"
    r"medications|medicines|meds|drugs|diseases|deficiencies|factors|options|questions|tests)\b|\blist\b|\bexamples?\b|"
    r"\bwhat else\b|\bother\b.*\b(?:causes|conditions|diseases)\b", re.I)


def wants_list(question: str) -> bool:
    """True when the question asks for several things ("what are the symptoms", "which conditions")."""
    return bool(_LIST_QUESTION.search(question))
