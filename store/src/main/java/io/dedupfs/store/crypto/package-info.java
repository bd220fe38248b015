/**
 * Encryption of a repository (FORMAT.md §12): master keys wrapped by a passphrase-derived key,
 * AES-256-GCM sealing of every stored blob, and keyed chunk ids. A plain repository uses
 * {@link io.dedupfs.store.crypto.Encryption#NONE}, so callers never branch on whether a
 * repository is encrypted.
 */
package io.dedupfs.store.crypto;
