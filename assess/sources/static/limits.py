"""The static scan's limits, in one place (docs/SCAN.md, "Limits", explains each).

Each is far above what a real code base reaches; only a hostile or generated file meets one, and
meeting one is recorded in the shard (a skipped entry or an asset property), never silent.
"""

# A file larger than this is skipped by size, without being opened.
MAX_FILE_BYTES = 16 * 1024 * 1024
# How much of a file is read to decide whether any detector wants it.
HEAD_BYTES = 8192
# Matches of one source-code rule in one file that become evidence; the rest are counted.
MAX_MATCHES_PER_RULE = 1000
# Characters after a match searched for a key size, curve or mode (the rule's lookahead lines).
MAX_WINDOW_CHARS = 4096
# Characters of matched API text quoted in the evidence.
MAX_SNIPPET_CHARS = 80
# Evidence occurrences listed on one asset; further sightings are counted in a property.
MAX_OCCURRENCES_PER_ASSET = 10_000
