"""Photos for a slow line: a monitoring act's photo as a small JPEG for the public pages.

At most :data:`WIDTH` x :data:`HEIGHT` pixels (twice the 160 CSS px the page shows it at),
quality 70, and nothing of the original file but its pixels: no EXIF (where and when a
phone took it, the phone's owner), no other metadata.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

WIDTH = 320
HEIGHT = 320
QUALITY = 70
#: a picture larger than this many pixels is refused (a decompression bomb)
MAX_PIXELS = 40_000_000


class NotAPicture(ValueError):
    """The bytes are no picture Pillow can read."""


def thumbnail(data: bytes) -> bytes:
    """``data`` (JPEG, PNG, WebP...) as a JPEG thumbnail; :class:`NotAPicture` if it is none."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            if picture.width * picture.height > MAX_PIXELS:
                raise NotAPicture("the picture is too large")
            picture.draft("RGB", (WIDTH, HEIGHT))  # JPEG: decode at a reduced scale
            small = picture.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise NotAPicture(str(exc)) from None
    small.thumbnail((WIDTH, HEIGHT))
    small.info = {}  # the original's comment, ICC profile...: JPEG's save would keep them
    out = io.BytesIO()
    small.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return out.getvalue()
