#!/usr/bin/env bash
# `make run`: the bot on 127.0.0.1:3978 (SQLite under ./var/) plus Agents Playground pointed at it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PLAYGROUND_PORT=${PLAYGROUND_PORT:-56150}
export HOST=${HOST:-127.0.0.1} PORT=${PORT:-3978} POLL_BOT_DB=${POLL_BOT_DB:-var/poll_bot.sqlite3}
mkdir -p var

"$BIN/python" -m poll_bot &
BOT_PID=$!
trap 'kill $BOT_PID 2>/dev/null; kill $PLAYGROUND_PID 2>/dev/null; wait' EXIT INT TERM

for _ in $(seq 50); do
  curl -fs "http://$HOST:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 $BOT_PID 2>/dev/null || { echo "the bot failed to start" >&2; exit 1; }
  sleep 0.2
done

# No browser is opened for you and no telemetry leaves the machine.
TEAMSAPPTESTER_BROWSER=none APPLICATION_INSIGHTS_NO_STATSBEAT=true \
M365_AGENTS_PLAYGROUND_LOGFILE="$PWD/var/playground.log" \
M365_AGENTS_PLAYGROUND_CONFIG_PATH="$PWD/e2e/m365agentsplayground.yml" \
  e2e/node_modules/.bin/agentsplayground -e "http://$HOST:$PORT/api/messages" -c msteams --dt -p "$PLAYGROUND_PORT" \
  > var/playground.out 2>&1 &
PLAYGROUND_PID=$!
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$PLAYGROUND_PORT/_debug/ping" >/dev/null 2>&1 && break
  kill -0 $PLAYGROUND_PID 2>/dev/null || { echo "Agents Playground failed to start, see var/playground.log" >&2; exit 1; }
  sleep 0.2
done
# It moves to a random port without a word when its port is taken.
grep -q "Listening on $PLAYGROUND_PORT" var/playground.out || { echo "port $PLAYGROUND_PORT is taken; set PLAYGROUND_PORT" >&2; exit 1; }

cat <<MSG

  Poll Bot is running on http://$HOST:$PORT/api/messages (database $POLL_BOT_DB)
  Open Agents Playground:  http://localhost:$PLAYGROUND_PORT

  In the personal chat type:   poll Lunch on Friday? | Pizza | Sushi | Tacos
  In a group chat or channel, @mention the bot first. Ctrl-C stops both.

MSG
wait $PLAYGROUND_PID
