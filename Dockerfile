# docker build -t poll-bot .
# docker run -p 3978:3978 -v poll-bot-data:/data -e MicrosoftAppId=<app id> -e MicrosoftAppPassword=<secret> poll-bot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 PORT=3978 POLL_BOT_DB=/data/poll_bot.sqlite3
# docker stop sends SIGKILL 10 s after SIGTERM: stop well before that.
ENV POLL_BOT_SHUTDOWN_SECONDS=8

COPY . /src
RUN pip install --no-cache-dir /src && rm -rf /src \
    && useradd --system --uid 10001 --no-create-home poll-bot \
    && mkdir /data && chown poll-bot /data

USER poll-bot
VOLUME /data
EXPOSE 3978
# The slim image has no curl; urlopen fails (exit 1) on a refused connection or a non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/healthz', timeout=4)"
CMD ["poll-bot", "serve"]
