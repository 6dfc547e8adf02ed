# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paging tokens of the Describe operations (KMS ``Marker``, CloudHSM ``NextToken``).

A token names the kind of list and the creation sequence number the next page starts at, so
a token of another list, or one the emulator did not issue, is refused.
"""

import base64
import binascii


def _encode_token(kind, seq):
    return base64.urlsafe_b64encode(("%s:%d" % (kind, seq)).encode("ascii")).decode("ascii")


def _decode_token(token, kind, error_class):
    """The creation sequence number a page starts at; ``error_class`` when the token is not ours."""
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
        token_kind, _colon, seq = text.partition(":")
        if token_kind == kind:
            return int(seq)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise error_class("The pagination token %r is not valid; pass the token the previous page returned." % token)


def paginate(items, token, limit, kind, error_class):
    """One page of ``items`` (in creation order) and the token for the next page, if any."""
    start = _decode_token(token, kind, error_class) if token is not None else 0
    remaining = [item for item in items if item.seq >= start]
    page = remaining[:limit]
    next_token = _encode_token(kind, remaining[limit].seq) if len(remaining) > limit else None
    return page, next_token
