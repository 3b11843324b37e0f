"""An act's photo as the public pages show it: small, a JPEG, nothing but its pixels."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.core.rendering.thumbnails import HEIGHT, MAX_PIXELS, WIDTH, NotAPicture, thumbnail


def picture(size: tuple[int, int], fmt: str, mode: str = "RGB", **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 200, 128)[: len(mode)]).save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("size", "fmt", "mode", "expected"),
    [
        ((4000, 3000), "JPEG", "RGB", (WIDTH, 240)),  # a camera's landscape photo
        ((900, 1600), "JPEG", "RGB", (180, HEIGHT)),  # portrait
        ((600, 600), "PNG", "RGBA", (WIDTH, HEIGHT)),  # a screenshot with transparency
        ((200, 100), "WEBP", "RGB", (200, 100)),  # already small: not enlarged
    ],
)
def test_a_photo_becomes_a_small_jpeg(
    size: tuple[int, int], fmt: str, mode: str, expected: tuple[int, int]
) -> None:
    small = thumbnail(picture(size, fmt, mode))
    with Image.open(io.BytesIO(small)) as thumb:
        assert thumb.format == "JPEG" and thumb.size == expected and thumb.mode == "RGB"


def test_the_metadata_stays_behind() -> None:
    exif = Image.Exif()
    exif[0x013B] = "Mirlan Osmonov"  # Artist
    exif[0x8825] = {2: (42.0, 30.0, 0.0)}  # GPS
    small = thumbnail(picture((1200, 900), "JPEG", exif=exif, comment=b"+996700000123"))
    with Image.open(io.BytesIO(small)) as thumb:
        assert not thumb.getexif() and "exif" not in thumb.info and "comment" not in thumb.info
    assert b"Osmonov" not in small and b"996700" not in small


@pytest.mark.parametrize(
    "data",
    [b"", b"not a picture", b"\xff\xd8\xff\xe0" + b"\x00" * 40, picture((10, 10), "PNG")[:30]],
)
def test_what_is_no_picture_is_refused(data: bytes) -> None:
    with pytest.raises(NotAPicture):
        thumbnail(data)


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    side = int(MAX_PIXELS**0.5) + 100
    bomb = picture((side, side), "PNG", "L", optimize=True)  # small file, huge picture
    assert len(bomb) < 200_000
    with pytest.raises(NotAPicture):
        thumbnail(bomb)
