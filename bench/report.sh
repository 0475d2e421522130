#!/usr/bin/env bash
# The results of one `make bench` run as one markdown table and PNG plots
# (gnuplot), from the figures the benchmarks recorded with result()
# (bench/lib.sh) and the per-run samples of exec2exit.
#   bash bench/report.sh RESULTS.tsv SAMPLES-DIR OUT-DIR
# Writes OUT-DIR/results.md and OUT-DIR/*.png; a section without figures
# gets no plot, and nothing is ever filled in for a missing figure.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
RES=$1 SAMPLES=$2 OUT=$3
[ -s "$RES" ] || die "no results recorded in $RES"
need_gnuplot
mkdir -p "$OUT"

# The systems in the order they were first measured.
systems() { awk -F'\t' -v s="$1" '$1 == s && !seen[$3]++ { print $3 }' "$RES"; }

# table SECTION: one markdown row per figure, one column per system.
table() {
	awk -F'\t' -v s="$1" '
		$1 != s { next }
		!(($2 SUBSEP $5) in row) { row[$2 SUBSEP $5] = ++nr; what[nr] = $2; unit[nr] = $5 }
		!($3 in col) { col[$3] = ++nc; sys[nc] = $3 }
		{ v[row[$2 SUBSEP $5], col[$3]] = $4 }
		END {
			printf "| %s | unit |", s
			for (c = 1; c <= nc; c++) printf " %s |", sys[c]
			printf "\n| --- | --- |"
			for (c = 1; c <= nc; c++) printf " ---: |"
			printf "\n"
			for (r = 1; r <= nr; r++) {
				printf "| %s | %s |", what[r], unit[r]
				for (c = 1; c <= nc; c++)
					printf " %s |", ((r, c) in v) ? v[r, c] : "not measured"
				printf "\n"
			}
		}' "$RES"
}

# plot SECTION UNIT FILE TITLE: a clustered bar chart of the figures of
# SECTION measured in UNIT, one cluster per figure, one bar per system.
plot() {
	local sec=$1 unit=$2 png=$OUT/$3 title=$4 dat=$OUT/$3.dat
	awk -F'\t' -v s="$sec" -v u="$unit" '
		$1 != s || $5 != u { next }
		!($2 in row) { row[$2] = ++nr; what[nr] = $2 }
		!($3 in col) { col[$3] = ++nc; sys[nc] = $3 }
		{ v[row[$2], col[$3]] = $4 }
		END {
			if (!nr) exit
			printf "\"figure\""
			for (c = 1; c <= nc; c++) printf " \"%s\"", sys[c]
			printf "\n"
			for (r = 1; r <= nr; r++) {
				printf "\"%s\"", what[r]
				for (c = 1; c <= nc; c++) printf " %s", ((r, c) in v) ? v[r, c] : "?"
				printf "\n"
			}
		}' "$RES" >"$dat"
	[ -s "$dat" ] || { rm -f "$dat"; return 0; }
	local ncol
	ncol=$(head -1 "$dat" | awk -F'" "' '{ print NF }')
	gnuplot <<-GP || die "gnuplot failed on $png"
		set terminal pngcairo size 1000,560 noenhanced
		set output "$png"
		set title "$title"
		set ylabel "$unit"
		set datafile missing "?"
		set style data histograms
		set style histogram clustered gap 1
		set style fill solid 0.8 border -1
		set key outside right top
		set xtics rotate by -20 left
		set yrange [0:*]
		plot for [i=2:$ncol] "$dat" using i:xtic(1) title columnheader(i)
	GP
	rm -f "$dat"
	PLOTS+=("$3")
}

# The exec-to-exit time of every run, sorted: the distribution per system.
plot_dist() {
	local png=$OUT/startup-distribution.png f lines=()
	for f in "$SAMPLES"/samples-*.txt; do
		[ -s "$f" ] || continue
		sort -n "$f" | awk '{ print NR, $1 }' >"$f.sorted"
		local name=${f##*/samples-}
		lines+=("\"$f.sorted\" using 1:2 with linespoints title \"${name%.txt}\"")
	done
	[ ${#lines[@]} -gt 0 ] || return 0
	local IFS=,
	gnuplot <<-GP || die "gnuplot failed on $png"
		set terminal pngcairo size 1000,560 noenhanced
		set output "$png"
		set title "exec to exit of the smallest guest, every run (sorted)"
		set xlabel "run (fastest first)"
		set ylabel "ms"
		set logscale y
		set key outside right top
		plot ${lines[*]}
	GP
	rm -f "$SAMPLES"/samples-*.txt.sorted
	PLOTS+=(startup-distribution.png)
}

PLOTS=()
plot startup ms startup.png "start-up: exec to the guest's first instruction, exec to exit (median)"
plot_dist
plot features ms features.png "exec to exit of the smallest guest with one feature on (median)"
plot vms VMs/s vms-per-second.png "tiny VMs started and run to their end per second"
plot memory MiB memory.png "peak RSS of one VM's monitor process"
plot blk IOPS blk-iops.png "virtio-blk IOPS (same guest, same image)"
plot blk "us/request" blk-cpu.png "virtio-blk host CPU per request"
plot net frames/s net-frames.png "virtio-net frames per second"
plot net Gbit/s net-gbits.png "virtio-net throughput"

{
	echo "# picovm benchmark results"
	echo
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc) CPUs, kernel $(uname -r)."
	echo "Figures from \`make bench\` (bench/run.sh); a figure that could not be"
	echo "measured stops the benchmark, so every number here was measured in this run."
	for sec in startup features vms memory blk net; do
		grep -q "^$sec	" "$RES" || continue
		echo
		table "$sec"
	done
	echo
	echo "Plots:"
	for p in "${PLOTS[@]}"; do echo "- [$p]($p)"; done
} >"$OUT/results.md"
echo "bench: wrote $OUT/results.md and ${#PLOTS[@]} plots"
