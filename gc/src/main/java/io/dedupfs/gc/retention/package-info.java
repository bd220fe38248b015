/**
 * Which snapshots {@code dedupfs prune} keeps: the {@code --keep-*} rules as restic's {@code forget}
 * applies them, as pure logic over snapshot numbers and creation times. No I/O and nothing of ours
 * imported, so every rule is tested with a fixed clock; the caller deletes what the {@link
 * io.dedupfs.gc.retention.Decision} removes.
 */
package io.dedupfs.gc.retention;
