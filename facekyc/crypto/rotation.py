"""Master-key rotation without downtime: new wraps use the new key while old wraps stay readable,
and a background job moves each wrapped data key over with `rewrap` until none `needs_rewrap`.

Order for `facekyc keys rotate`: `add_key()`; rewrap every row; then scan again and retire the
old key only when no row names it (a server that wrapped a key just before it noticed the new
key file would otherwise lose that row).
"""

from __future__ import annotations

from facekyc.crypto.keys import MasterKeyProvider, WrappedKey


def needs_rewrap(wrapped: WrappedKey, provider: MasterKeyProvider) -> bool:
    """True when the key is wrapped under a master key other than the provider's current one."""
    return wrapped.key_id != provider.key_id


def rewrap(wrapped: WrappedKey, provider: MasterKeyProvider, aad: bytes) -> WrappedKey:
    """Unwrap under the key it names and wrap under the current key; already-current keys pass through."""
    if not needs_rewrap(wrapped, provider):
        return wrapped
    return provider.wrap(provider.unwrap(wrapped, aad), aad)
