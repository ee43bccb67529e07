"""The floor of the document path: read JSON lines, parse each, write each again (`python parse_floor.py IN OUT`).

Nothing less can be done with a runtime file; `runtime to-bom`, merge and gate are measured against it.
"""

import gzip
import json
import sys

source, target = sys.argv[1:3]
with (gzip.open(source, "rt", encoding="utf-8") if source.endswith(".gz") else open(source, encoding="utf-8")) as fh, \
        open(target, "w", encoding="utf-8") as out:
    for line in fh:
        out.write(json.dumps(json.loads(line)) + "\n")
