package io.dedupfs.store.crypto;

import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The keyed MAC behind chunk ids, key derivation, index tokens and salted keys. */
public final class HmacSha256 {
  private HmacSha256() {}

  /** A new HMAC-SHA256 under {@code key}; not thread-safe, like every {@link Mac}. */
  public static Mac keyed(byte[] key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks HMAC-SHA256", e);
    }
  }
}
