#!/usr/bin/env bash
# Generate a large MLFlux training dataset on a Slurm cluster: one array task per shard,
# then a dependent job that merges the shards (byte-identical to a one-machine run).
#
#   scripts/slurm-dataset.sh MODEL SAMPLES SHARDS OUT [extra `mlflux dataset generate` options…]
#   scripts/slurm-dataset.sh ccm 1000000 50 /scratch/ccm-1M --sampler hit-and-run
#
# Environment: MLFLUX (the mlflux binary; default: `mlflux` on PATH), SEED (default 1),
# CPUS (cores per task, default 16), TIME (per task, default 02:00:00), PARTITION,
# SBATCH_EXTRA (further sbatch options, e.g. "--account=abc").
# Shards go to OUT/shards/NNN; the merged dataset to OUT/all. A task that hits its time
# limit can be resubmitted as is: it runs with --resume and continues from its last block.
set -euo pipefail

if [ $# -lt 4 ]; then
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
MODEL=$1; SAMPLES=$2; SHARDS=$3; OUT=$4; shift 4
EXTRA=("$@")
MLFLUX=${MLFLUX:-mlflux}
SEED=${SEED:-1}
CPUS=${CPUS:-16}
TIME=${TIME:-02:00:00}
PART=${PARTITION:+--partition=$PARTITION}
mkdir -p "$OUT/shards" "$OUT/logs"
LAST=$((SHARDS - 1))
EXTRA_Q=""
if [ ${#EXTRA[@]} -gt 0 ]; then printf -v EXTRA_Q '%q ' "${EXTRA[@]}"; fi

ARRAY_JOB=$(sbatch --parsable $PART ${SBATCH_EXTRA:-} \
    --job-name="mlflux-$MODEL" --array="0-$LAST" --cpus-per-task="$CPUS" --time="$TIME" \
    --output="$OUT/logs/shard-%a.log" <<EOS
#!/usr/bin/env bash
#SBATCH --array=0-$LAST
set -euo pipefail
export OPENBLAS_NUM_THREADS=1
i=\$SLURM_ARRAY_TASK_ID
dir=\$(printf '%s/shards/%03d' "$OUT" "\$i")
if [ -f "\$dir/dataset.json" ]; then echo "shard \$i already complete"; exit 0; fi
"$MLFLUX" dataset generate --model "$MODEL" --samples "$SAMPLES" --seed "$SEED" \
    --shard "\$i/$SHARDS" --threads "\${SLURM_CPUS_PER_TASK:-$CPUS}" --resume --out "\$dir" $EXTRA_Q
EOS
)
echo "submitted shard array job $ARRAY_JOB (tasks 0-$LAST)"

MERGE_JOB=$(sbatch --parsable $PART ${SBATCH_EXTRA:-} \
    --job-name="mlflux-$MODEL-merge" --dependency="afterok:$ARRAY_JOB" --cpus-per-task=1 --time=01:00:00 \
    --output="$OUT/logs/merge.log" <<EOS
#!/usr/bin/env bash
set -euo pipefail
"$MLFLUX" dataset merge "$OUT"/shards/* --out "$OUT/all"
"$MLFLUX" dataset info "$OUT/all"
EOS
)
echo "submitted merge job $MERGE_JOB (runs after all shards succeed) -> $OUT/all"
