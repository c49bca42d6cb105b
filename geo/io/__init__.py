"""Files in and out: every format a user or publisher hands us, recognised once and read.

`recognise.sniff` says what a file is; `tables` and `opendocument` stream
spreadsheets and CSV as text; `readers` turn provider lists into the canonical
site table; `boundaries` and `lookups` read ONS layers and lookups; `registers` the
Charity Commission's and the social housing regulator's registers; `exports`
writes CSV and XLSX that are safe to open in Excel. Depends only on `geo.model`.
"""
