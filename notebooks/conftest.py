"""When the notebooks run as tests (nbval), their kernels record history into a throwaway folder,
never into the user's data dir. The kernels inherit this process's environment."""

import os
import tempfile

os.environ.setdefault("FALSTUDIO_HISTORY_DIR", tempfile.mkdtemp(prefix="falstudio-notebook-history-"))
for _var in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):  # tests never reach fal.ai
    os.environ.pop(_var, None)
