"""Speed of the offline engines against their budget (issues 4 and 12), on this machine.

Budget on 2 cores: one 1024x1024 text-to-image <= 0.15 s, one edit <= 0.1 s (both including encoding); GPT Image 2
text-to-image at high quality <= 0.15 s per megapixel at every size up to 3840x2160.
Prints the best and median of N runs per case, and each as a ratio to a peer measured in the same run:
encoding one 1024x1024 PNG of a smooth gradient with Pillow (the cheapest honest image a server can return).

    /work/venv/bin/python bench/engines.py [--runs 7]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

from PIL import Image

from falstudio.local.engines import _png, edit, generate

T2I_BUDGET = 0.15
EDIT_BUDGET = 0.10
PER_MEGAPIXEL_BUDGET = 0.15  # GPT Image 2 text-to-image, high quality
ENDPOINT = "fal-ai/gpt-image-1-mini"
GPT_IMAGE_2 = "openai/gpt-image-2"
GPT_IMAGE_2_SIZES = ("landscape_4_3", "1024x1024", "1536x1024", "2048x1152", "2560x1440", "3840x2160")
PROMPT = "a cabin by a lake at sunset with mountains and pine trees"


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm caches (fonts, radial masks, numpy)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def peer_png() -> None:
    image = Image.linear_gradient("L").resize((1024, 1024)).convert("RGB")
    image.save(io.BytesIO(), "PNG", compress_level=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    peer, _ = timed(peer_png, args.runs)
    print(f"peer: encode a 1024x1024 gradient PNG: {peer * 1000:.1f} ms\n")
    print(f"{'case':58} {'best':>8} {'median':>8} {'x peer':>7}  budget")

    def row(name: str, fn: Callable[[], object], budget: float) -> None:
        best, median = timed(fn, args.runs)
        verdict = "ok" if median <= budget else "OVER"
        print(
            f"{name:58} {best * 1000:7.1f}ms {median * 1000:7.1f}ms {median / peer:7.1f}  "
            f"{verdict} (<= {budget * 1000:.0f} ms)"
        )

    for quality in ("auto", "low", "medium", "high"):
        request = {"prompt": PROMPT, "quality": quality}
        row(f"text-to-image 1024x1024 quality={quality}", lambda r=request: generate(r, ENDPOINT), T2I_BUDGET)
    for prompt in ("a cat wearing a hat", "neon city at night", "ocean beach with a sailboat and clouds"):
        request = {"prompt": prompt, "quality": "high"}
        row(f"text-to-image high: {prompt[:36]}", lambda r=request: generate(r, ENDPOINT), T2I_BUDGET)
    row(
        "text-to-image 1536x1024 quality=high (1.5x the pixels)",
        lambda: generate({"prompt": PROMPT, "quality": "high", "image_size": "1536x1024"}, ENDPOINT),
        T2I_BUDGET * 1.5,
    )

    print(f"\n{'GPT Image 2 text-to-image, quality=high':58} {'best':>8} {'median':>8} {'s/MP':>7}  budget")
    for size in GPT_IMAGE_2_SIZES:
        request = {"prompt": PROMPT, "quality": "high", "image_size": size}
        [image] = generate(request, GPT_IMAGE_2)
        megapixels = image.width * image.height / 1e6
        best, median = timed(lambda r=request: generate(r, GPT_IMAGE_2), args.runs)
        per_mp = median / megapixels
        verdict = "ok" if per_mp <= PER_MEGAPIXEL_BUDGET else "OVER"
        print(
            f"{f'{size} ({image.width}x{image.height}, {megapixels:.2f} MP)':58} {best * 1000:7.1f}ms "
            f"{median * 1000:7.1f}ms {per_mp:7.3f}  {verdict} (<= {PER_MEGAPIXEL_BUDGET} s/MP)"
        )
    print()

    [source] = generate({"prompt": PROMPT, "quality": "high"}, ENDPOINT)
    photo = Image.open(io.BytesIO(source.data))
    photo.load()
    for prompt in (
        "make it pixel art",
        "sepia vintage",
        "pencil sketch",
        "cartoon",
        "dreamy blur",
        "add a rainbow",
        "make it a watercolour",
    ):
        row(f"edit 1024x1024 quality=auto: {prompt}", lambda p=prompt: edit({"prompt": p}, [photo]), EDIT_BUDGET)
    for quality in ("low", "high"):
        row(
            f"edit 1024x1024 quality={quality}: sepia",
            lambda q=quality: edit({"prompt": "sepia", "quality": q}, [photo]),
            EDIT_BUDGET,
        )
    mask = Image.new("L", photo.size, 0)
    mask.paste(255, (0, 0, 512, 1024))
    row("edit 1024x1024 with a mask: invert", lambda: edit({"prompt": "invert"}, [photo], mask), EDIT_BUDGET)
    png_writer(args.runs)


def png_writer(runs: int) -> None:
    """The engines' PNG writer beside Pillow's encoder (compress_level=1, as the engines used) on their pictures."""
    print(f"\n{'PNG of an engine picture (1024x1024)':58} {'engine':>8} {'Pillow':>8} {'ratio':>7}  sizes")
    for quality, background in (("low", "auto"), ("medium", "auto"), ("high", "auto"), ("medium", "transparent")):
        request = {"prompt": PROMPT, "quality": quality, "background": background}
        picture = Image.open(io.BytesIO(generate(request, ENDPOINT)[0].data))
        picture.load()
        ours, _ = timed(lambda p=picture: _png.png_bytes(p, {}, {}), runs)
        pillow, _ = timed(lambda p=picture: p.save(io.BytesIO(), "PNG", compress_level=1), runs)
        buffer = io.BytesIO()
        picture.save(buffer, "PNG", compress_level=1)
        sizes = f"{len(_png.png_bytes(picture, {}, {})) // 1024} KB / {len(buffer.getvalue()) // 1024} KB"
        print(
            f"{f'quality={quality} background={background}':58} {ours * 1000:7.1f}ms {pillow * 1000:7.1f}ms "
            f"{ours / pillow:7.2f}  {sizes}"
        )


if __name__ == "__main__":
    main()
