"""falstudio's defaults, in one place: the endpoint and prompt a new Studio, Compare or demo starts with."""

DEFAULT_ENDPOINT = "fal-ai/gpt-image-1-mini"
DEFAULT_PROMPT = "a lighthouse on a cliff at sunset"
DEMO_PROMPT = "a lighthouse on a cliff by the ocean at sunset, with clouds and stars"  # richer: more to draw
