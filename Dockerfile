# One image for every process of the Procfile (web, worker, beat, flower, release).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/app

COPY requirements/ requirements/
RUN pip install -r requirements/base.txt

COPY . .
# /srv/artifacts exists and belongs to the app user, so a fresh named volume mounted there does too.
RUN useradd --system --home /srv/app jobsvc && mkdir -p instance /srv/artifacts && chown -R jobsvc instance /srv/artifacts
USER jobsvc

EXPOSE 5000 5555
CMD ["python", "wsgi.py"]
