"""falstudio's internal shared helpers: not public API.

What belongs here: small, dependency-free helpers that several of falstudio's packages need (image bytes
and thumbnails, text and metadata chunks inside image files, secret redaction, the colour theme of the HTML
views, per-user folders, points in time such as ``since="today"``, the version). Nothing here imports another
falstudio package; the packages that use these modules import them by their names here.
"""
