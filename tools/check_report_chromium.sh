#!/usr/bin/env bash
# Opens a report.html in real headless Chromium and checks that it is self-contained and quiet:
#   * it loads (a JavaScript dialog such as alert() would block headless Chromium: a timeout fails);
#   * the page writes nothing to the console (it has no script, so any message is an error: a
#     Content-Security-Policy violation, a resource that failed, a script that ran);
#   * the page makes no request: every URL in Chromium's net log is the report file itself or a
#     data: URI. Requests Chromium makes on its own (component updates, account checks) carry no
#     initiator ("not an origin") and are listed but not counted; everything the page asks for
#     carries the page's origin as initiator;
#   * it saves a screenshot of the page (a tall window, so that every chart is on it).
#
# usage: tools/check_report_chromium.sh REPORT.html OUT.png [HEIGHT_PX]
# HEIGHT_PX defaults to an estimate of the page's height from its images, table rows, headings and
# paragraphs, with room to spare (headless Chromium's --screenshot captures the window only).
# Needs Debian's chromium (apt-get install -y chromium). Exit codes: 0 ok, 1 check failed,
# 2 bad usage or no chromium. CHROMIUM=path overrides the browser, CHECK_TIMEOUT=seconds the limit
# (default 60), CHECK_WIDTH=pixels the window's width (default 1280; the report's body is 1000 px
# wide, so 1040 leaves out the empty margins).
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 REPORT.html OUT.png [HEIGHT_PX]" >&2
  exit 2
fi
report="$1"
shot="$2"
height="${3:-}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
limit="${CHECK_TIMEOUT:-60}"
width="${CHECK_WIDTH:-1280}"
if [ ! -x "$chromium" ]; then
  echo "check_report_chromium: $chromium not found; install it with: apt-get install -y chromium" >&2
  exit 2
fi
if [ ! -f "$report" ]; then
  echo "check_report_chromium: $report: no such file" >&2
  exit 2
fi
if [ -z "$height" ]; then
  # Page height estimate: image heights plus a generous allowance per table row, heading and
  # paragraph at a 1280 px wide window, plus 25%.
  height="$(awk '
    { line = $0
      while (match(line, /<img [^>]*height="[0-9]+"/)) {
        img = substr(line, RSTART, RLENGTH); sub(/.*height="/, "", img); sub(/"/, "", img)
        total += img + 70; line = substr(line, RSTART + RLENGTH) }
      total += 24 * gsub(/<tr>/, "&") + 70 * gsub(/<h[1-3][ >]/, "&") + 50 * gsub(/<p>/, "&")
               + 40 * gsub(/<caption>/, "&") }
    END { print int((total + 400) * 1.25) }' "$report")"
fi
case "$height" in (*[!0-9]*|'') echo "check_report_chromium: HEIGHT_PX must be a number" >&2; exit 2;; esac
case "$width" in (*[!0-9]*|'') echo "check_report_chromium: CHECK_WIDTH must be a number" >&2; exit 2;; esac

abs="$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
mkdir -p "$(dirname "$shot")"
shot_abs="$(cd "$(dirname "$shot")" && pwd)/$(basename "$shot")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
profile="$work/profile"
netlog="$work/netlog.json"
log="$work/chromium.log"

rc=0
timeout "$limit" "$chromium" \
  --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
  --disable-extensions --disable-default-apps --no-pings --disable-domain-reliability \
  --disable-client-side-phishing-detection --metrics-recording-only --bwsi \
  --disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate \
  --enable-logging=stderr --v=1 --log-net-log="$netlog" \
  --hide-scrollbars --window-size="$width,$height" --screenshot="$shot_abs" \
  "file://$abs" >"$work/stdout" 2>"$log" || rc=$?

fail=0
if [ "$rc" -eq 124 ]; then
  echo "FAIL: $report did not finish loading in $limit s (a JavaScript dialog such as alert() blocks it)"
  fail=1
elif [ "$rc" -ne 0 ]; then
  echo "FAIL: chromium exited with code $rc; its last lines:"
  tail -5 "$log"
  fail=1
fi

# Console messages of the page: Chromium logs them as INFO:CONSOLE lines.
console="$(grep -E ':CONSOLE[:(]' "$log" || true)"
if [ -n "$console" ]; then
  echo "FAIL: the page wrote to the console:"
  printf '%s\n' "$console" | sed 's/^/  /'
  fail=1
fi

# Requests: one net-log event per line; URLs from events whose initiator is "not an origin" are
# Chromium's own. Any other URL must be the report itself or a data: URI.
if [ ! -s "$netlog" ]; then
  echo "FAIL: chromium wrote no net log ($netlog)"
  fail=1
else
  awk -v self="file://$abs" -v internal="$work/internal" -v page="$work/page" '
    {
      url = ""; init = "";
      if (match($0, /"url":"[^"]*"/)) url = substr($0, RSTART + 7, RLENGTH - 8);
      if (match($0, /"initiator":"[^"]*"/)) init = substr($0, RSTART + 13, RLENGTH - 14);
      if (url == "") next;
      if (init == "not an origin") { print url > internal; own[url] = 1 } else seen[url] = 1;
    }
    END {
      for (u in seen) if (!(u in own) && u != self && u !~ /^data:/) print u > page;
    }' "$netlog"
  touch "$work/internal" "$work/page"
  if [ -s "$work/page" ]; then
    echo "FAIL: the page requested:"
    sort -u "$work/page" | sed 's/^/  /'
    fail=1
  fi
  ignored="$(sort -u "$work/internal" | sed -E 's#^([a-z]+://[^/?]*).*#\1#' | sort -u | paste -sd ' ' -)"
fi

if [ "$fail" -eq 0 ] && [ ! -s "$shot_abs" ]; then
  echo "FAIL: no screenshot at $shot"
  fail=1
fi
if [ "$fail" -ne 0 ]; then
  exit 1
fi
note=""
if [ -n "$ignored" ]; then
  note=" (ignored, made by Chromium itself: $ignored)"
fi
version="$("$chromium" --version 2>/dev/null | head -1 | cut -d' ' -f1-2 || true)"
echo "OK: $report loaded in headless $version: no console messages, no requests from the" \
  "page$note; screenshot $shot (${width}x$height)"
