#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The whole flow on one machine: installs the dependencies, builds, creates
# an instance (in DIR, or a new temporary directory), certifies three adapters
# (municipality, police, housing), the Hageby working group and an
# administrator, starts the hub, pushes the bundled sample week
# (config/sample/week, ISO week 2026-W47) and shows what the working group
# received. Run it again with the same DIR: the instance is reused and every
# report comes back as a duplicate.
#
#   bash scripts/demo.sh [DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
SAMPLE="$ROOT/config/sample/partners"

say() { printf '\n== %s\n' "$*"; }

bash "$ROOT/scripts/install-deps.sh"

say "building into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

program() {
	local p
	p="$(find "$BUILD" -type f -name "$1" -perm -u+x -not -path '*/CMakeFiles/*' | head -n 1)"
	if [ -z "$p" ]; then
		echo "demo: $1 was not built" >&2
		exit 2
	fi
	printf '%s\n' "$p"
}
ESTHUB="$(program esthub)"
ESTCTL="$(program estctl)"
ADAPTER="$(program est-adapter)"
FEED="$(program est-feed)"

if [ "$#" -ge 1 ]; then
	DIR="$1"
else
	DIR="$(mktemp -d /tmp/esthub-demo.XXXXXX)/instance"
fi
LOGS="$(mktemp -d /tmp/esthub-demo-logs.XXXXXX)"

if [ -f "$DIR/hub.conf" ]; then
	say "reusing the instance in $DIR"
else
	say "creating an instance in $DIR"
	# Two free loopback ports, fixed in hub.conf so that the endpoints stay
	# the same when the hub is run again.
	read -r P1 P2 < <(python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
	"$ESTHUB" init "$DIR" --ingest "tcp://127.0.0.1:$P1" --feed "tcp://127.0.0.1:$P2"
fi
"$ESTHUB" check "$DIR"

say "certifying the partners and the working group"
add_client() {
	local name="$1"
	shift
	if [ -e "$DIR/certs/$name" ]; then
		echo "$name: already certified"
	else
		"$ESTCTL" -d "$DIR" client add "$name" "$@"
	fi
}
add_client kommunen --role adapter --org municipality
add_client polisen --role adapter --org police
add_client hyresbostader --role adapter --org housing
add_client hageby-grupp --role subscriber --groups hageby/situational,hageby/social
add_client admin --role admin
"$ESTCTL" -d "$DIR" client list

say "starting the hub"
"$ESTHUB" run "$DIR" >"$LOGS/hub.out" 2>"$LOGS/hub.err" </dev/null &
HUB_PID=$!
stop_hub() {
	if kill -0 "$HUB_PID" 2>/dev/null; then
		kill -TERM "$HUB_PID"
		wait "$HUB_PID" || true
	fi
}
trap stop_hub EXIT

READY=""
for _ in $(seq 1 300); do
	READY="$(grep -m 1 '^esthub: ready ' "$LOGS/hub.out" || true)"
	[ -n "$READY" ] && break
	if ! kill -0 "$HUB_PID" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
if [ -z "$READY" ]; then
	echo "demo: the hub did not start; its log:" >&2
	cat "$LOGS/hub.err" >&2
	exit 2
fi
echo "$READY"
INGEST="$(sed -n 's/.* ingest=\([^ ]*\).*/\1/p' <<<"$READY")"
FEED_EP="$(sed -n 's/.* feed=\([^ ]*\).*/\1/p' <<<"$READY")"

say "pushing the sample week (2026-W47) from three partners, each in its own format"
push() {
	local name="$1" format="$2" file="$3" rc=0
	"$ADAPTER" --hub "$INGEST" --hub-cert "$DIR/keys/hub" --cert "$DIR/clients/${name}_secret" \
		--format "$format" --timeout 60 --outbox "$LOGS/$name.outbox" "$SAMPLE/$file" \
		>"$LOGS/$name.out" || rc=$?
	sed "s|^$SAMPLE/||" "$LOGS/$name.out"
	printf '%s (%s): %s\n' "$file" "$format" "$(awk '{print $4}' "$LOGS/$name.out" | sort |
		uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}')"
	if [ "$rc" -ne 0 ]; then
		echo "demo: est-adapter for $name exited $rc" >&2
		exit "$rc"
	fi
}
# The municipality's weekly Excel export, the police's events feed and the
# housing company's Open311 fault reports, translated by est-adapter.
push kommunen municipality-csv kommunen-v47.csv
push polisen police-json polisen-v47.json
push hyresbostader open311 hyresbostader-v47.json

feed() {
	local name="$1"
	shift
	# --sign-key: every picture and checkpoint is checked against the hub's signature.
	"$FEED" --hub "$FEED_EP" --hub-cert "$DIR/keys/hub" --cert "$DIR/clients/${name}_secret" \
		--sign-key "$DIR/keys/sign.pem" --from 1 --until-head --timeout 30 "$@"
}

say "compiling the situational pictures (lägesbilder) of 2026-W47"
"$ESTCTL" -d "$DIR" picture compile --week 2026-W47
feed admin --topic '*/pictures'

say "the pictures in short, ranked (est-feed --summary)"
feed admin --topic '*/pictures' --summary

# One self-contained HTML page per picture (and an index), as a working group
# would keep them: est-feed --html DIR (--csv DIR for Excel, --geojson DIR for QGIS).
PAGES="$LOGS/pictures"
say "writing the pictures as HTML pages into $PAGES (est-feed --html)"
feed admin --topic '*/pictures' --html "$PAGES" --csv "$PAGES/csv" --geojson "$PAGES/geojson" >/dev/null
echo "index: $PAGES/index.html"
for page in "$PAGES"/*-*.html; do
	echo "page:  $page"
done

say "entries per topic in the shared log (admin)"
feed admin --topic '*/*' | awk '{print $2}' | sort | uniq -c

say "what the Hageby working group received (est-feed --topic 'hageby/*')"
feed hageby-grupp --topic 'hageby/*'

say "hub status and log verification"
"$ESTCTL" -d "$DIR" status
"$ESTCTL" -d "$DIR" verify

stop_hub
trap - EXIT

say "done"
echo "instance: $DIR"
echo "logs:     $LOGS"
echo "pictures: $PAGES/index.html (open in a browser; prints on A4)"
echo "run the hub again:  $ESTHUB run $DIR"
echo "follow Hageby:      $FEED --hub $FEED_EP --hub-cert $DIR/keys/hub --cert $DIR/clients/hageby-grupp_secret --topic 'hageby/*' --state hageby.state"
