# The cluster part of the quick start, sourced by scripts/demo.sh, bench/demo_stability.sh and
# tests/scripts: a 2-node x 2-rank emulated cluster (parm cluster, root) whose inter-node link is slow enough
# that the schedules differ beyond noise, the demo layer calibrated (quick) and validated on it, and the
# cluster's removal, which runs even when the caller is interrupted (demo_cluster_arm_cleanup).
# Settings (environment): PARM (the parm binary), PARM_DEMO_CLUSTER (cluster name), PARM_DEMO_RATE (link
# rate, tc units), PARM_DEMO_LAYER (configuration file or preset name), PARM_DEMO_DB (project file).

parm=${PARM:-build/engine/parm}
demo_cluster=${PARM_DEMO_CLUSTER:-demo}
demo_rate=${PARM_DEMO_RATE:-100mbit}
demo_layer=${PARM_DEMO_LAYER:-default}
demo_db=${PARM_DEMO_DB:-build/demo/project.sqlite}
demo_cluster_run=  # the validation run of the cluster part, once stored
demo_child=  # the parm command running now, so the cleanup can stop it first

# Runs "$@" in the background and waits, so that a signal reaches the trap at once instead of after the
# command (bash runs traps only between foreground commands). Returns the command's status.
demo_run() {
  "$@" &
  demo_child=$!
  local rc=0
  wait "$demo_child" || rc=$?
  demo_child=
  return "$rc"
}

# Stops the running parm command, then removes every namespace, link and file of the cluster. Safe to call
# when nothing is up. Fails (and says so) only when something of the cluster is still there afterwards.
demo_cluster_down() {
  if [[ -n $demo_child ]]; then
    kill -TERM "$demo_child" 2>/dev/null || true
    wait "$demo_child" 2>/dev/null || true
    demo_child=
  fi
  "$parm" cluster down --name "$demo_cluster" >/dev/null 2>&1 || true
  if "$parm" cluster status --name "$demo_cluster" >/dev/null 2>&1 || ip netns list | grep -q "^parm-$demo_cluster-"; then
    echo "demo: cluster $demo_cluster is still (partly) up; remove it with: $parm cluster down --name $demo_cluster" >&2
    return 1
  fi
}

# The cluster comes down on any exit of the caller, Ctrl-C and kill included.
demo_cluster_arm_cleanup() {
  trap 'demo_cluster_down' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# "500mbit" -> "500 Mbit/s" for the labels (parm cluster's own wording).
demo_rate_words() {
  "$parm" cluster status --name "$demo_cluster" 2>/dev/null | sed -n 's/.*inter-node links \(.*\) each way.*/\1/p'
}

# Brings the cluster up, calibrates there (quick; messages up to 4 MiB: the demo layer's largest is under 2),
# validates the demo layer there, all stored in the demo project; sets demo_cluster_run to the validation
# run's id.
demo_cluster_validate() {
  local cal=${demo_db%/*}/calibration-cluster.json out
  "$parm" cluster down --name "$demo_cluster" >/dev/null 2>&1 || true
  demo_run "$parm" cluster up --nodes 2 --ranks-per-node 2 --inter-bandwidth "$demo_rate" --name "$demo_cluster"
  demo_run "$parm" calibrate "$demo_layer" --quick --maxbytes 4M --cluster "$demo_cluster" --out "$cal" \
    --db "$demo_db" >/dev/null
  out=$(mktemp)
  demo_run "$parm" validate "$demo_layer" --cluster "$demo_cluster" --calibration "$cal" --db "$demo_db" \
    >"$out" || { cat "$out"; rm -f "$out"; return 1; }
  cat "$out"
  demo_cluster_run=$(sed -n 's/^stored as run \([0-9]*\) .*/\1/p' "$out")
  rm -f "$out"
}
