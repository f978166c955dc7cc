#!/usr/bin/env bash
# Run a Drydock sweep as a Slurm job array: task K of N runs shard K/N; a dependent
# job merges the shards into the outputs one machine would write.
#
#   ARRAY=$(sbatch --parsable examples/cluster/slurm-array.sh)
#   sbatch --dependency=afterok:$ARRAY --wrap \
#     "drydock sweep merge out/spread_vs_size/shard-* --out out/spread_vs_size/merged"
#
# Shards are deterministic: resubmitting a failed task resumes it.
#SBATCH --job-name=drydock-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=02:00:00
set -euo pipefail
N=${SLURM_ARRAY_TASK_COUNT:-8}
K=${SLURM_ARRAY_TASK_ID}
export CI=true
drydock sweep sweeps/spread_vs_size.toml \
  --jobs "${SLURM_CPUS_PER_TASK:-2}" \
  --shard "${K}/${N}" \
  --out "out/spread_vs_size/shard-${K}"
