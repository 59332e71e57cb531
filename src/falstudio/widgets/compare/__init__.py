"""Compare: variations of one request side by side, run as a sweep, exported as one HTML file."""

from ._compare import Compare, CostConfirmationRequired
from ._export import export_html

__all__ = ["Compare", "CostConfirmationRequired", "export_html"]
