"""How hard a new vault passphrase is to guess: zxcvbn, with the portal's threshold.

The portal's page (``gateway/portal/static/js/documents.js``) runs the JavaScript zxcvbn and
accepts a score of :data:`MIN_SCORE` or more; the command line runs the Python port of the
same estimator with the same threshold, so a passphrase refused in one is refused in the
other. The passphrase itself is never logged or sent anywhere.
"""

from __future__ import annotations

from commons import cli_messages as msg
from commons.i18n import _

MIN_SCORE = 3
"""zxcvbn's score 3, "safely unguessable" (about 10^8 guesses or more): the portal's too."""

_MAX_CHECKED = 100
"""zxcvbn's cost grows with the length; beyond this many characters only the first are
estimated (a longer passphrase is no weaker than its start)."""


def weakness(passphrase: str) -> list[str] | None:
    """``None`` if ``passphrase`` is strong enough; otherwise the advice to show, zxcvbn's
    warning and suggestions first, then ours."""
    from zxcvbn import zxcvbn

    result = zxcvbn(passphrase[:_MAX_CHECKED])
    if int(result["score"]) >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    advice = [str(feedback["warning"])] if feedback["warning"] else []
    advice += [str(s) for s in feedback["suggestions"]]
    advice.append(_(msg.PASSPHRASE_ADVICE))
    return advice
