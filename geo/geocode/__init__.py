"""Postcodes and grid references to coordinates: offline from ONSPD/NSPL, online via postcodes.io.

`offline` streams a postcode directory and places sites by postcode, falling back
to `postcodes_io` (the bulk API with back-off) when the user allows the network.
"""
