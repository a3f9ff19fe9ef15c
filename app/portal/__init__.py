"""The applicant's portal (/pemohon/): what an applicant may do and see, in plain Python (no Flask
request objects); app.views.portal* are the thin web side."""
