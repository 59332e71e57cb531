"""When the notebooks run as tests (nbval), their kernels record history into a throwaway folder,
never into the user's data dir, and never fetch from fal. The kernels inherit this process's environment."""

import os
import tempfile

# Throwaway folders, removed when this process exits (kept alive by these names until then)
_HISTORY = tempfile.TemporaryDirectory(prefix="falstudio-notebook-history-", ignore_cleanup_errors=True)
_CACHE = tempfile.TemporaryDirectory(prefix="falstudio-notebook-cache-", ignore_cleanup_errors=True)
os.environ.setdefault("FALSTUDIO_HISTORY_DIR", _HISTORY.name)
# Nor fal's OpenAPI service (unregistered endpoints' schemas): a closed loopback port, and a throwaway cache.
os.environ["FALSTUDIO_OPENAPI_URL"] = "http://127.0.0.1:9/api/openapi/queue/openapi.json"
os.environ["FALSTUDIO_CACHE_DIR"] = _CACHE.name
os.environ.setdefault("FALSTUDIO_LOCAL_LATENCY", "0")  # the embedded offline server answers at once
for _var in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):  # tests never reach fal.ai
    os.environ.pop(_var, None)
