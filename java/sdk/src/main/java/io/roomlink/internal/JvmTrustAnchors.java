package io.roomlink.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Base64;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The JVM's default trust anchors as PEM, for the native core's TLS checks: handing them down
 * makes every platform trust what the JVM trusts, whatever the OS store holds. Computed once per
 * process (a few hundred KiB of PEM from the default TrustManagerFactory).
 */
public final class JvmTrustAnchors {
    private JvmTrustAnchors() {
    }

    /** The PEM, or throws IllegalStateException if the JVM has no usable default trust store. */
    public static String pem() {
        return Holder.PEM;
    }

    private static final class Holder {
        static final String PEM = load();
    }

    private static String load() {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init((KeyStore) null);
            StringBuilder pem = new StringBuilder();
            Base64.Encoder base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
            for (TrustManager manager : factory.getTrustManagers()) {
                if (manager instanceof X509TrustManager x509) {
                    for (X509Certificate anchor : x509.getAcceptedIssuers()) {
                        pem.append("-----BEGIN CERTIFICATE-----\n")
                                .append(base64.encodeToString(anchor.getEncoded()))
                                .append("\n-----END CERTIFICATE-----\n");
                    }
                }
            }
            if (pem.length() == 0) {
                throw new IllegalStateException("the JVM's default trust store holds no certificate authority: "
                        + "set RoomEngineConfig.Builder.trustedCertificates(pem)");
            }
            return pem.toString();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the JVM's default trust anchors: " + e.getMessage(), e);
        }
    }
}
