# Sourced by the tools that run retain's classes in a JVM of their own (tools/*.java with the
# application's jar on the class path): the jar built when stale, the memory allocator settings of
# bin/retain, offline DJL, and a line naming the CPU and its load (every measurement states them).
#
#   . "$(dirname "$0")/java_env.sh" MODEL      # sets $home, the repository
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$home/bin/retain" info "$1" >/dev/null   # builds the jar when it is missing or stale
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296}"
for lib in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2; do
  if [ -z "${LD_PRELOAD:-}" ] && [ -f "$lib" ]; then
    export LD_PRELOAD="$lib" MALLOC_CONF="${MALLOC_CONF:-oversize_threshold:0}"
  fi
done
export DJL_OFFLINE=true
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
