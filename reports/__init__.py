"""Printed papers (receipt, return letter, inspection report, permit): data in, PDF bytes out.

Pure: no Flask, no database. Rendering never touches the network and reads no file outside
reports/assets (images) and reports/templates (the Jinja templates).
"""
