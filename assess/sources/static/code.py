"""Crypto API use in source code (Python, Go, Java, JavaScript/TypeScript, C) -> algorithm assets.

Driven by a rules file (`rules.yaml` beside this module, extended with `carnot scan --rules`):
each rule is a regular expression for one API, with what it reveals (the algorithm, and the key
size, curve or mode where the code states them). Matches on comment lines are ignored. The
evidence names the rule and quotes only the matched API text, never the rest of the line (which
could hold a literal key or password).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from cyclonedx.model.crypto import CryptoPrimitive

from assess.errors import ConfigError
from assess.model import parse_count
from assess.sources.static.algorithms import JOSE, algorithm_asset, family_of, normalise_curve
from assess.sources.static.interface import Finding, NotText, ScannedFile, suffix_of
from assess.sources.static.limits import MAX_MATCHES_PER_RULE, MAX_SNIPPET_CHARS, MAX_WINDOW_CHARS

LANGUAGES: dict[str, frozenset[str]] = {
    "python": frozenset({".py", ".pyw"}),
    "go": frozenset({".go"}),
    "java": frozenset({".java", ".kt"}),
    "javascript": frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"}),
    "c": frozenset({".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh"}),
}
_LANGUAGE_OF: dict[str, str] = {suffix: lang for lang, suffixes in LANGUAGES.items() for suffix in suffixes}
_COMMENT_PREFIXES: dict[str, tuple[str, ...]] = {
    "python": ("#",),
    **dict.fromkeys(("go", "java", "javascript", "c"), ("//", "/*", "*")),
}
_FIELDS = frozenset({"id", "languages", "pattern", "algorithm", "key_bits", "curve", "mode", "primitive",
                     "lookahead", "jose"})
_PRIMITIVES = {p.value: p for p in CryptoPrimitive}


@dataclass(frozen=True)
class Rule:
    """One crypto API: where it is matched and what a match reveals."""

    id: str
    languages: frozenset[str]
    pattern: re.Pattern[str]
    algorithm: str | None = None
    key_bits: int | re.Pattern[str] | None = None
    curve: str | re.Pattern[str] | None = None
    mode: str | re.Pattern[str] | None = None
    primitive: CryptoPrimitive | None = None
    lookahead: int = 0
    jose: bool = False  # the captured algorithm is a JOSE "alg" name (RS256, ES384, EdDSA, ...)
    origin: str = ""  # file:line where the rule was written, for messages

    @cached_property
    def needle(self) -> str:
        """A literal every match contains: files without it skip the (much slower) regex."""
        return required_literal(self.pattern)


DEFAULT_RULES = "rules.yaml"


def required_literal(pattern: re.Pattern[str]) -> str:
    """The longest literal run at the top level of a regex (each top-level item is required); "" if none."""
    if pattern.flags & re.IGNORECASE:
        return ""
    try:
        parsed = re._parser.parse(pattern.pattern, pattern.flags)  # type: ignore[attr-defined]
    except Exception:  # an internal API: without it, the regex simply runs on every file
        return ""
    literal = re._constants.LITERAL  # type: ignore[attr-defined]
    best, run = "", ""
    for op, arg in parsed:
        if op is literal:
            run += chr(arg)
            continue
        best, run = max(best, run, key=len), ""
    return max(best, run, key=len)


def default_rules() -> list[Rule]:
    text = resources.files("assess.sources.static").joinpath(DEFAULT_RULES).read_text("utf-8")
    return parse_rules(text, f"assess/sources/static/{DEFAULT_RULES}")


def load_rules(extra: Path | None = None) -> list[Rule]:
    """The built-in rules, extended (and, by id, overridden) by a user's rules file."""
    rules = {r.id: r for r in default_rules()}
    if extra is not None:
        try:
            text = extra.read_text("utf-8")
        except FileNotFoundError as e:
            raise ConfigError("rules file not found", path=extra) from e
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"rules file is not readable UTF-8 text: {e}", path=extra) from e
        for rule in parse_rules(text, str(extra)):
            rules[rule.id] = rule
    return list(rules.values())


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping, for error messages."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def parse_rules(text: str, origin: str) -> list[Rule]:
    """Rules from YAML text; any problem is a ConfigError naming the file and line."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(f"invalid YAML: {e.problem or e}", path=origin,
                          line=mark.line + 1 if mark else None) from e
    except yaml.YAMLError as e:
        raise ConfigError(f"invalid YAML: {e}", path=origin) from e
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ConfigError("a rules file is a mapping with a 'rules' list", path=origin,
                          line=data.get("__line__") if isinstance(data, dict) else 1)
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(data["rules"], start=1):
        if not isinstance(raw, dict):
            raise ConfigError(f"rule {index} is not a mapping", path=origin, line=data["__line__"])
        rule = _rule(raw, index, origin)
        if rule.id in seen:
            raise ConfigError(f"rule id {rule.id!r} is used twice", path=origin, line=raw["__line__"])
        seen.add(rule.id)
        rules.append(rule)
    return rules


def _rule(raw: dict[str, Any], index: int, origin: str) -> Rule:
    line = int(raw.pop("__line__"))

    def fail(message: str) -> ConfigError:
        return ConfigError(f"rule {raw.get('id', index)!r}: {message}", path=origin, line=line)

    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise fail(f"unknown field(s) {', '.join(map(str, unknown))}; known: {', '.join(sorted(_FIELDS))}")
    for required in ("id", "languages", "pattern"):
        if required not in raw:
            raise fail(f"missing '{required}'")
    languages = raw["languages"]
    if isinstance(languages, str):
        languages = [languages]
    if not isinstance(languages, list) or not languages or any(lang not in LANGUAGES for lang in languages):
        raise fail(f"'languages' must list some of {', '.join(LANGUAGES)}")
    pattern = _regex(raw["pattern"], "pattern", fail)
    if raw.get("algorithm") is None and "algorithm" not in pattern.groupindex:
        raise fail("needs 'algorithm', or a (?P<algorithm>...) group in its pattern")
    primitive = raw.get("primitive")
    if primitive is not None and primitive not in _PRIMITIVES:
        raise fail(f"unknown primitive {primitive!r}; known: {', '.join(_PRIMITIVES)}")
    lookahead = raw.get("lookahead", 0)
    if not isinstance(lookahead, int) or isinstance(lookahead, bool) or not 0 <= lookahead <= 50:
        raise fail("'lookahead' must be a whole number of lines from 0 to 50")
    jose = raw.get("jose", False)
    if not isinstance(jose, bool):
        raise fail("'jose' must be true or false")
    key_bits = raw.get("key_bits")
    if key_bits is not None and not (isinstance(key_bits, int) and not isinstance(key_bits, bool)):
        key_bits = _regex(key_bits, "key_bits", fail, group=True)
    return Rule(
        id=str(raw["id"]),
        languages=frozenset(languages),
        pattern=pattern,
        algorithm=str(raw["algorithm"]) if raw.get("algorithm") is not None else None,
        key_bits=key_bits,
        curve=_fixed_or_regex(raw.get("curve"), "curve", fail),
        mode=_fixed_or_regex(raw.get("mode"), "mode", fail),
        primitive=_PRIMITIVES[primitive] if primitive else None,
        lookahead=lookahead,
        jose=jose,
        origin=f"{origin}:{line}",
    )


def _fixed_or_regex(value: Any, name: str, fail: Any) -> str | re.Pattern[str] | None:
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"[\w.-]+", value):
        return value
    return _regex(value, name, fail, group=True)


def _regex(value: Any, name: str, fail: Any, *, group: bool = False) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise fail(f"'{name}' must be a regular expression (a string)")
    try:
        compiled = re.compile(value, re.MULTILINE)
    except re.error as e:
        raise fail(f"'{name}' is not a valid regular expression: {e}") from e
    if group and compiled.groups == 0:
        raise fail(f"'{name}' needs a capturing group for the value")
    return compiled


class CodeDetector:
    name = "source code"

    def __init__(self, rules: list[Rule]) -> None:
        self._by_language = {lang: [r for r in rules if lang in r.languages] for lang in LANGUAGES}

    def wants(self, name: str, head: bytes) -> bool:
        language = _LANGUAGE_OF.get(suffix_of(name))
        return language is not None and bool(self._by_language[language])

    def detect(self, file: ScannedFile) -> Iterator[Finding]:
        language = _LANGUAGE_OF[suffix_of(file.name)]
        try:
            text = file.text()
        except NotText as e:
            yield file.skipped(str(e))
            return
        for rule in self._by_language[language]:
            if rule.needle in text:
                yield from _rule_findings(rule, text, _COMMENT_PREFIXES[language], file)


class _Lines:
    """Line numbers and comment lines for positions visited in increasing order.

    Each step looks only at the text between the previous position and the next, so a rule's pass
    over a file is linear however long its lines and however many its matches.
    """

    def __init__(self, text: str, comment_prefixes: tuple[str, ...]) -> None:
        self._text = text
        self._comment_prefixes = comment_prefixes
        self._pos = 0
        self._code_start = _code_start(text, 0)
        self.number = 1

    def advance(self, pos: int) -> None:
        newlines = self._text.count("\n", self._pos, pos)
        if newlines:
            self.number += newlines
            self._code_start = _code_start(self._text, self._text.rfind("\n", self._pos, pos) + 1)
        self._pos = pos

    def commented(self, pos: int) -> bool:
        """Whether the current line starts as a comment before `pos`."""
        return self._text.startswith(self._comment_prefixes, self._code_start, pos)


_INDENT = re.compile(r"[^\S\n]*")


def _code_start(text: str, line_start: int) -> int:
    """Where the line starting at `line_start` has its first non-blank character."""
    indent = _INDENT.match(text, line_start)
    return indent.end() if indent else line_start


def _rule_findings(rule: Rule, text: str, comment_prefixes: tuple[str, ...], file: ScannedFile) -> Iterator[Finding]:
    """A rule's matches in one file outside comment lines, at most MAX_MATCHES_PER_RULE; the rest counted."""
    lines = _Lines(text, comment_prefixes)
    matches = rule.pattern.finditer(text)
    match = next(matches, None)
    kept = 0
    while match is not None:
        following = next(matches, None)
        lines.advance(match.start())
        if not lines.commented(match.start()):
            if kept == MAX_MATCHES_PER_RULE:
                rest = 1 + (following is not None) + sum(1 for _ in matches)
                yield file.skipped(f"limit: {rest} more matches of rule {rule.id} from this line on not examined "
                                   f"(at most {MAX_MATCHES_PER_RULE} per rule and file)", lines.number)
                return
            kept += 1
            # A size stated after the next call of the same API belongs to that call.
            limit = following.start() if following is not None else len(text)
            window = text[match.start():_window_end(text, match.start(), rule.lookahead, limit)]
            yield _finding(rule, match, window, file, lines.number)
        match = following


def _window_end(text: str, start: int, lookahead: int, limit: int) -> int:
    """The end of the line `lookahead` lines after `start`'s, stopping at `limit` or MAX_WINDOW_CHARS."""
    end = min(limit, start + MAX_WINDOW_CHARS)
    for _ in range(lookahead + 1):
        newline = text.find("\n", start, end)
        if newline < 0:
            return end
        start = newline + 1
    return start


def _finding(rule: Rule, match: re.Match[str], window: str, file: ScannedFile, line: int) -> Finding:
    groups = match.groupdict()
    named = groups.get("algorithm") or rule.algorithm
    scheme = named if rule.jose and named in JOSE else None
    if scheme is not None:
        family, bits, mode = JOSE[scheme].family, None, None
    elif groups.get("algorithm"):
        family, bits, mode = family_of(groups["algorithm"])
    else:
        family, bits, mode = rule.algorithm or "", None, None
    if groups.get("bits"):
        bits = parse_count(groups["bits"])  # a rule's own pattern may match digits no int() should take
    elif isinstance(rule.key_bits, int):
        bits = rule.key_bits
    elif isinstance(rule.key_bits, re.Pattern):
        found = _first_group(rule.key_bits, window)
        bits = (parse_count(found) if found else None) or bits
    curve = groups.get("curve") or _value(rule.curve, window) or (JOSE[scheme].curve if scheme else None)
    if family in ("RSA", "DSA", "DH"):
        curve = None  # a curve stated near an RSA call belongs to something else
    mode = (groups.get("mode") or _value(rule.mode, window) or mode or "").lower() or None
    snippet = " ".join(window[: match.end() - match.start()].split())[:MAX_SNIPPET_CHARS]
    return algorithm_asset(
        family,
        file.evidence(line, f"rule {rule.id}: {snippet}"),
        bits=bits,
        curve=normalise_curve(curve) if curve else None,
        mode=mode,
        primitive=rule.primitive,
        scheme=scheme,
    )


def _value(spec: str | re.Pattern[str] | None, window: str) -> str | None:
    if spec is None or isinstance(spec, str):
        return spec
    return _first_group(spec, window)


def _first_group(pattern: re.Pattern[str], window: str) -> str | None:
    match = pattern.search(window)
    if match is None:
        return None
    return next((g for g in match.groups() if g), None)
