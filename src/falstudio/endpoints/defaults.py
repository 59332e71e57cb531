"""falstudio's defaults, in one place: the endpoint and prompt a new Studio, Compare or demo starts with."""

DEFAULT_ENDPOINT = "openai/gpt-image-2"  # the one GPT Image model on fal with no shutdown announced
DEFAULT_PROMPT = "a lighthouse on a cliff at sunset"
DEMO_PROMPT = "a lighthouse on a cliff by the ocean at sunset, with clouds and stars"  # richer: more to draw
