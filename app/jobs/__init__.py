"""Report jobs: large reports are made by a Huey consumer, never inside a web request.

queue.py builds the Huey instance (SQLite in the instance folder, or Redis with REDIS_URL) and
its tasks; runner.py claims, runs, reaps and purges ReportJob rows; kinds.py says what each kind
of report is and who may ask for it.
"""
