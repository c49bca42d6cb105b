"""Publishing an analyst's file: column mapping, validation row by row, and the store write.

`mapping` suggests columns, `validation` decides each row (accepted, warned or
rejected, with the problem as data), and `publishing` is the one path from a file
to a published version used by the upload page and `python -m geo publish`.
"""
