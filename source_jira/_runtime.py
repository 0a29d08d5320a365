"""Process set-up done before airbyte_cdk is imported (imported first by `source_jira/__init__.py`). Python because it
is about the interpreter and the C allocator, not about the manifest.

* Start-up: importing `airbyte_cdk.models` builds serpyco-rs serializers for the protocol classes, reading every
  field's docstring: about 0.5 s of CPU at every start (spec, check, discover, read) for JSON-schema descriptions
  nothing here asks for. `source_jira/serpyco_adapter.py` (the only place with serpyco-rs's private names, checked
  against its pinned version) has the doc lookup answer "no docs": same serializers, same output.
* Memory: the sync parses large JSON pages on many worker threads. glibc gives each thread that contends for the
  allocator an arena of its own (up to 8 per core), and freed pages stay mapped in each: peak RSS of a 10,000-issue
  sync of the issue family measured 370 MB with the default, 199 MB with two arenas (and less CPU). So the arena
  count is capped at 2 through `mallopt(M_ARENA_MAX)` — unless MALLOC_ARENA_MAX is set, which glibc reads itself.
"""

from __future__ import annotations

import os
import sys

from source_jira import serpyco_adapter

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def cap_malloc_arenas() -> None:
    if not sys.platform.startswith("linux") or os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_ARENA_MAX, ARENAS)
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to cap
        pass


cap_malloc_arenas()
serpyco_adapter.skip_attribute_docs()
