# Sourced by the bench scripts: the few functions they all use.

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }
# Seconds elapsed since $1 (a value of now).
since() { echo "$1 $(now)" | awk '{print $2-$1}'; }
