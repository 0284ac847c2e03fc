package io.roomlink.server;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * One self-signed certificate per JVM for {@link RoomServer.Builder#selfSignedTls()}: an ECDSA
 * P-256 key and a certificate naming localhost, 127.0.0.1 and ::1, valid for 30 days. Dev and
 * tests only; a client trusts it through {@link #pem()}.
 */
public final class SelfSignedCertificate {
    private static volatile SelfSignedCertificate shared;

    private final PrivateKey privateKey;
    private final X509Certificate certificate;
    private final String pem;

    private SelfSignedCertificate(PrivateKey privateKey, X509Certificate certificate) {
        this.privateKey = privateKey;
        this.certificate = certificate;
        try {
            this.pem = "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certificate.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode the self-signed certificate", e);
        }
    }

    /** This JVM's certificate, generated on first use. */
    public static SelfSignedCertificate shared() {
        SelfSignedCertificate c = shared;
        if (c == null) {
            synchronized (SelfSignedCertificate.class) {
                c = shared;
                if (c == null) {
                    c = generate();
                    shared = c;
                }
            }
        }
        return c;
    }

    private static SelfSignedCertificate generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(256);
            KeyPair keys = generator.generateKeyPair();
            X500Name name = new X500Name("CN=localhost, O=roomlink self-signed (dev and tests only)");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                    new BigInteger(64, new SecureRandom()).add(BigInteger.ONE), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(30))), name, keys.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                    new GeneralName(GeneralName.iPAddress, "::1")}));
            X509Certificate certificate = new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
            return new SelfSignedCertificate(keys.getPrivate(), certificate);
        } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
            throw new IllegalStateException("cannot generate a self-signed certificate: " + e.getMessage(), e);
        }
    }

    PrivateKey privateKey() {
        return privateKey;
    }

    /** The certificate. */
    public X509Certificate certificate() {
        return certificate;
    }

    /** The certificate as PEM: what a client must trust to talk to a selfSignedTls() server. */
    public String pem() {
        return pem;
    }
}
