#!/usr/bin/env bash
# A worker fleet on one machine, as docs/deploy.md sets it up, and its numbers:
#   - a PostgreSQL 15 cluster in a temporary folder (the shared job queue), three `edu serve` workers on one shared
#     data and models folder, nginx in front with deploy/nginx/edu-workers.conf;
#   - claims/s of the queue with 3 workers (`edu bench queue`, trivial jobs);
#   - segment calls/s through nginx against one worker directly (bench/grpc_load.py, Python grpcio);
#   - the hand-over time after a worker's death: a training runs, its worker gets SIGKILL, another resumes it.
#     MODEL=PACKAGE IMAGE=FILE [LEASE=10] [CLIENTS=8] [SECONDS=15] bench/fleet.sh
# MODEL is a segmentation package (e.g. runs/quickstart-*/run/model), IMAGE an image it takes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${MODEL:?set MODEL to a model package}" "${IMAGE:?set IMAGE to an image the model takes}"
LEASE="${LEASE:-10}" CLIENTS="${CLIENTS:-8}" SECONDS_EACH="${SECONDS:-15}"
pg=/usr/lib/postgresql/15/bin
[ -x "$pg/initdb" ] && [ -x /usr/sbin/nginx ] || { echo "needs postgresql and nginx: apt-get install postgresql nginx" >&2; exit 2; }
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null || { echo "needs Python grpcio: apt-get install python3-grpcio python3-grpc-tools" >&2; exit 2; }
dir="$(mktemp -d)"; chmod 755 "$dir"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$dir/nginx/nginx.pid" ] && kill "$(cat "$dir/nginx/nginx.pid")" 2>/dev/null || true
  as_pg "$pg/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F)"
# 1. PostgreSQL: its own cluster on a free loopback port
pgport="$(port)"; mkdir -p "$dir/pg"; [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pg"
as_pg "$pg/initdb" -D "$dir/pg" -U edu -A trust --no-sync >/dev/null
as_pg "$pg/pg_ctl" -D "$dir/pg" -l "$dir/pg/log" -w -o "-p $pgport -c listen_addresses=127.0.0.1 -k $dir/pg" start >/dev/null
as_pg "$pg/createdb" -h 127.0.0.1 -p "$pgport" -U edu edu; as_pg "$pg/createdb" -h 127.0.0.1 -p "$pgport" -U edu edu_bench
conn="Host=127.0.0.1;Port=$pgport;Username=edu;Database=edu"

# 2. three workers on one queue and one shared folder
mkdir -p "$dir/shared/models/bench/1"; cp -r "$MODEL"/. "$dir/shared/models/bench/1/"
name="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$MODEL/model.json")"
"$root/edu" --help >/dev/null 2>&1 # build once before the workers start together
wports=()
for i in 1 2 3; do
  p="$(port)"; wports+=("$p")
  EDU_Worker__JobStore="$conn" EDU_Worker__Id="worker-$i" EDU_Worker__JobLeaseSeconds="$LEASE" EDU_Worker__MetricsUrl="" EDU_Worker__DrainSeconds=2 \
    "$root/edu" serve --urls "http://127.0.0.1:$p" --models "$dir/shared/models" --data "$dir/shared/data" > "$dir/worker-$i.log" 2>&1 &
  pids+=($!)
done
for p in "${wports[@]}"; do for _ in $(seq 300); do "$root/edu" remote jobs --server "http://127.0.0.1:$p" >/dev/null 2>&1 && break; sleep 0.2; done; done

# 3. nginx in front, with the shipped server block (its ports replaced, a third worker added)
front="$(port)"; mkdir -p "$dir/nginx"
sed -e "s/127.0.0.1:50050/127.0.0.1:$front/" -e "s/127.0.0.1:50051/127.0.0.1:${wports[0]}/" -e "s/127.0.0.1:50052/127.0.0.1:${wports[1]}/" \
    -e "/127.0.0.1:${wports[1]}/a\\    server 127.0.0.1:${wports[2]} max_fails=1 fail_timeout=10s;" "$root/deploy/nginx/edu-workers.conf" > "$dir/nginx/edu.conf"
cat > "$dir/nginx/nginx.conf" <<CONF
$([ "$(id -u)" -eq 0 ] && echo "user root;")
worker_processes 1; pid $dir/nginx/nginx.pid; error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $dir/nginx/body; proxy_temp_path $dir/nginx/proxy; fastcgi_temp_path $dir/nginx/f; uwsgi_temp_path $dir/nginx/u; scgi_temp_path $dir/nginx/s;
include $dir/nginx/edu.conf; }
CONF
/usr/sbin/nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log"

# 4. the queue: claims/s with three workers
"$root/edu" bench queue --store "Host=127.0.0.1;Port=$pgport;Username=edu;Database=edu_bench" --workers 3 --jobs 600

# 5. segmentation: one worker directly, then the three through nginx
for target in "direct 127.0.0.1:${wports[0]}" "nginx 127.0.0.1:$front"; do
  set -- $target
  printf '%-7s ' "$1"; /usr/bin/python3 "$root/bench/grpc_load.py" --server "$2" --model "$name" --image "$IMAGE" --clients "$CLIENTS" --seconds "$SECONDS_EACH" --honour-retry | tail -1
done

# 6. hand-over: a long training through nginx, its worker killed with SIGKILL, another resumes it
mkdir -p "$dir/shared/data/datasets"; "$root/edu" synth --modality xray --count 8 --size 64 --out "$dir/shared/data/boxes" >/dev/null
job="$("$root/edu" remote train --server "http://127.0.0.1:$front" --dataset "$dir/shared/data/boxes" --model-name long --model unet --epochs 1000 \
       --batch 2 --base 4 --set depth=2 --set steps_per_epoch=3 --set threads=1 --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')"
jobs() { "$root/edu" remote jobs --server "http://127.0.0.1:$front" --json | python3 -c "import json,sys; j=[x for x in json.load(sys.stdin)['jobs'] if x['id']=='$job'][0]; print(j['worker'], j['state'], j['attempts'], j['epoch'])"; }
for _ in $(seq 600); do read -r w s a e <<<"$(jobs)"; [ "$s" = JOB_STATE_RUNNING ] && [ "$e" -ge 2 ] && break; sleep 0.2; done
victim="${w#worker-}"; kill -KILL "${pids[$((victim-1))]}"; killed="$(date +%s.%N)"
for _ in $(seq 3000); do read -r w2 s2 a2 e2 <<<"$(jobs)"; [ "$w2" != "$w" ] && [ "$a2" -ge 2 ] && break; sleep 0.1; done
took="$(python3 -c "import time; print(f'{time.time() - $killed:.1f}')")"
echo "hand-over: $w killed at epoch $e; $w2 claimed the job ${took} s later (lease ${LEASE} s; attempt $a2)"
