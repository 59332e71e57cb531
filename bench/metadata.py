"""Writing "how this image was made" into PNG, JPEG and WebP files: splicing the container vs re-encoding.

For a 1024x1024 offline-engine image in each format, prints the time ``falstudio.metadata.embed`` takes, the bytes
it adds and whether the pixels stay identical; then what writing the same metadata through Pillow (which has to
re-encode JPEG and WebP) would cost: time, size and the pixel error it introduces.

    python bench/metadata.py
"""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image

from falstudio import metadata
from falstudio.endpoints import GptImage1MiniRequest
from falstudio.local.engines.text_to_image import generate

RUNS = 20


def best(fn: object, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def main() -> None:
    info = metadata.build(
        endpoint="fal-ai/gpt-image-1-mini",
        request={"prompt": "a lighthouse on a cliff at sunset", "quality": "medium", "image_size": "1024x1024"},
        request_id="0d9c3a52-1b7e-4f43-9a55-6f2b8c1d0e7f",
        mode="local",
    )
    print(
        f"{'format':7} {'file':>9} {'embed':>9} {'added':>8} {'same pixels':>12} | "
        f"{'Pillow re-encode':>17} {'size':>9} {'max err':>8} {'PSNR dB':>8}"
    )
    for fmt in ("png", "jpeg", "webp"):
        request = GptImage1MiniRequest(
            prompt="a lighthouse on a cliff at sunset", quality="medium", image_size="1024x1024", output_format=fmt
        )
        data = generate(request, "fal-ai/gpt-image-1-mini")[0].data
        out = metadata.embed(data, info)
        embed_s = best(lambda d=data: metadata.embed(d, info))
        same = bool((pixels(out) == pixels(data)).all())
        image = Image.open(io.BytesIO(data))
        image.load()
        args: dict[str, object] = {"png": {}, "jpeg": {"quality": 90}, "webp": {"quality": 85}}[fmt]

        def reencode(image: Image.Image = image, fmt: str = fmt, args: dict[str, object] = args) -> bytes:
            buf = io.BytesIO()
            image.save(buf, fmt.upper(), **args)
            return buf.getvalue()

        again = reencode()
        reencode_s = best(reencode, 5)
        diff = np.abs(pixels(again) - pixels(data))
        mse = float((diff.astype(np.float64) ** 2).mean())
        psnr = "inf" if mse == 0 else f"{10 * np.log10(255**2 / mse):.1f}"
        print(
            f"{fmt:7} {len(data) / 1024:8.0f}K {embed_s * 1000:7.2f}ms {len(out) - len(data):7d}B {same!s:>12} | "
            f"{reencode_s * 1000:15.1f}ms {len(again) / 1024:8.0f}K {int(diff.max()):8d} {psnr:>8}"
        )


if __name__ == "__main__":
    main()
