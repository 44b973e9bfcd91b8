"""Background jobs: work that outgrows a request (a ZIP of firm reports, the full answers export, a large
register import), run by Celery workers (jinan_assess/celery.py) and followed on the job page.

- models.py: the Job row, the one record of a job's state, progress, result file and error;
- services.py: every change of a Job (start, claim, progress, finish, fail, cancel, retry, purge);
- selectors.py: which jobs an administrator may see, and a job's state as the page and JSON show it;
- work.py: the work itself (PDFs into a ZIP, exports to disk, the register import), called by tasks.py;
- views.py / urls.py: the job pages under /manage/jobs/ and the POSTs that start jobs.
"""
