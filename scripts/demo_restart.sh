#!/bin/sh
# The README's batch-job demo: submit a 400-referral week, kill -9 the server once the solve is
# past stage 1, start it again, fetch the result. Prints the commands and their output.
#
#   sh scripts/demo_restart.sh DIR            # DIR: a scratch folder (jobs.db, week.json ...)
#   SCHEDULER="env PYTHONPATH=$PWD .venv/bin/scheduler" sh scripts/demo_restart.sh DIR
set -u
DIR=${1:?usage: demo_restart.sh DIR}
S=${SCHEDULER:-scheduler}
A=127.0.0.1:${PORT:-50071}
mkdir -p "$DIR" && cd "$DIR" && rm -f jobs.db jobs.db-wal jobs.db-shm plan.json
uptime
echo '$ scheduler generate --profile naestved --seed 7 --referrals 400 -o week.json'
$S generate --profile naestved --seed 7 --referrals 400 -o week.json
echo "\$ scheduler serve --port ${A##*:} --store jobs.db --lease 10 &"
$S serve --port "${A##*:}" --store jobs.db --lease 10 2> first.log &
FIRST=$!
sleep 4
echo "\$ scheduler client submit week.json --time-limit 60 --workers 1 --request-id naestved-2026-w49 --address $A"
OP=$($S client submit week.json --time-limit 60 --workers 1 --request-id naestved-2026-w49 --address "$A")
echo "$OP"
# Kill once stage 1 has ended (its plan is then the job's checkpoint).
for _ in $(seq 1 60); do
  sleep 2
  ST=$($S client status "$OP" --address "$A")
  case "$ST" in *lateness*|*courses*|*tail*|*succeeded*|*failed*) break ;; esac
done
echo "\$ scheduler client status $OP --address $A"
echo "$ST"
echo '$ kill -9 %1'
kill -9 $FIRST
wait $FIRST 2>/dev/null
echo "\$ scheduler serve --port ${A##*:} --store jobs.db --lease 10 &"
$S serve --port "${A##*:}" --store jobs.db --lease 10 2> second.log &
SECOND=$!
sleep 3
echo "\$ scheduler client wait $OP -o plan.json --address $A"
$S client wait "$OP" -o plan.json --address "$A"
echo "\$ scheduler client list --address $A"
$S client list --address "$A"
echo '$ scheduler check week.json plan.json'
$S check week.json plan.json > check.txt; head -1 check.txt
kill $SECOND
wait $SECOND 2>/dev/null
grep '"job started"' first.log second.log
uptime
