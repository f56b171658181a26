"""What the common kinds of section in a paper list hold, in words a sentence model can use.

Many lists split a topic into "Attack Papers" and "Defense Papers" (or "Survey", "Benchmark").
A title embeds mostly by its topic ("... Adversarial Attacks on Graph Neural Networks"), so
"GNNGuard: Defending Graph Neural Networks against Adversarial Attacks" is as close to an
"Attack" heading as to a "Defense" one; what a defense paper does ("defending", "robust",
"certified", "detecting") is said here, once, for every list. Written from what these words
mean, not fitted to any list; replaying real histories (docs/quality.md) measured it.
"""

from __future__ import annotations

import re

# The words a heading's name may hold besides its kind: "Defense Papers", "Attacks & Methods".
_FILLER = {"paper", "papers", "work", "works", "method", "methods", "and", "the", "on", "of"}
_KINDS = (
    (
        "defense",
        {
            "defense",
            "defence",
            "defenses",
            "defences",
            "defending",
            "countermeasures",
            "mitigation",
            "mitigations",
            "protection",
            "robustness",
        },
        "defending against attacks: robust training, certified robustness, detecting and "
        "mitigating adversarial inputs, guards, purification and repair",
    ),
    (
        "attack",
        {"attack", "attacks", "attacking", "adversarial"},
        "attacking models: adversarial examples and perturbations, poisoning, evasion, "
        "fooling and manipulating them",
    ),
    (
        "survey",
        {"survey", "surveys", "review", "reviews", "overview", "overviews"},
        "a survey, review or overview of the field",
    ),
    (
        "benchmark",
        {"benchmark", "benchmarks", "evaluation", "toolkit", "toolkits", "tools"},
        "benchmarks, evaluation, toolkits and frameworks",
    ),
    (
        "certified",
        {"certified", "certification", "verification", "provable"},
        "certified robustness, provable guarantees and verification",
    ),
)
_WORD = re.compile(r"[a-z]+")


def kind_of(name: str) -> str:
    """The common kind a section named ``name`` is ("defense", "attack", "survey",
    "benchmark", "certified"), or "" when its name says more than its kind.

    >>> kind_of("Defense Papers"), kind_of("2.1 Targeted Attack"), kind_of("Membership Inference")
    ('defense', 'attack', '')
    """
    words = set(_WORD.findall(name.casefold())) - _FILLER
    if not words:
        return ""
    for kind, names, _ in _KINDS:
        if words & names and len(words - names) <= 1:  # "Defense", "Targeted Attack"
            return kind
    return ""


def kind_description(name: str) -> str:
    """What a section named ``name`` holds when the name is a common kind, else "".

    >>> kind_description("Defense Papers").split(":")[0]
    'defending against attacks'
    >>> kind_description("Targeted Attack").split(":")[0]
    'attacking models'
    >>> kind_description("Membership Inference Attacks")
    ''
    """
    kind = kind_of(name)
    return next((said for k, _, said in _KINDS if k == kind), "") if kind else ""
