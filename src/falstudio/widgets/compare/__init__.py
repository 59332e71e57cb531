"""Compare: variations of one request side by side, run as a sweep, exported as one HTML file; Arena: blind
votes between them, ranked with Bradley–Terry statistics."""

from ._arena import Arena
from ._compare import Compare
from ._confirm import CostConfirmationRequired
from ._export import export_html

__all__ = ["Arena", "Compare", "CostConfirmationRequired", "export_html"]
