"""Event payloads on the wire: JSON that keeps tuples.

pytest's report serialisation (pytest_report_to_serializable) holds tuples that
pytest checks for by type, such as a skip's longrepr (path, lineno, reason), and
plain JSON would bring them back as lists. A tuple travels as {"__tuple__": [...]}.
"""

import json

_TAG = "__tuple__"


def _tag(value):
    if isinstance(value, tuple):
        return {_TAG: [_tag(v) for v in value]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, dict):
        return {k: _tag(v) for k, v in value.items()}
    return value


def _untag(obj):
    if len(obj) == 1 and _TAG in obj:
        return tuple(obj[_TAG])
    return obj


def dumps(value):
    """Bytes for the wire; values JSON cannot hold travel as their repr()."""
    return json.dumps(_tag(value), default=repr).encode()


def loads(data):
    return json.loads(data, object_hook=_untag)
