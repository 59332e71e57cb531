"""When the notebooks run as tests (nbval), their kernels record history into a throwaway folder,
never into the user's data dir, and never fetch from fal. The kernels inherit this process's environment."""

import os
import tempfile

os.environ.setdefault("FALSTUDIO_HISTORY_DIR", tempfile.mkdtemp(prefix="falstudio-notebook-history-"))
# Nor fal's OpenAPI service (unregistered endpoints' schemas): a closed loopback port, and a throwaway cache.
os.environ["FALSTUDIO_OPENAPI_URL"] = "http://127.0.0.1:9/api/openapi/queue/openapi.json"
os.environ["FALSTUDIO_CACHE_DIR"] = tempfile.mkdtemp(prefix="falstudio-notebook-cache-")
os.environ.setdefault("FALSTUDIO_LOCAL_LATENCY", "0")  # the embedded offline server answers at once
for _var in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):  # tests never reach fal.ai
    os.environ.pop(_var, None)
