package io.roomlink.testkit;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HexFormat;

/**
 * A bare signaling client that speaks protocol v1 by hand (docs/PROTOCOL.md), so the testkit's
 * tests depend on the wire format, not on the server's or the SDK's codec.
 */
final class WireClient implements AutoCloseable {
    static final int JOIN = 0x01;
    static final int JOIN_OK = 0x02;
    static final int JOIN_ERR = 0x03;
    static final int RESUME = 0x04;
    static final int RESUME_OK = 0x05;
    static final int LEAVE_OK = 0x07;
    static final int PEER_JOINED = 0x08;
    static final int PING = 0x0A;
    static final int PONG = 0x0B;
    static final int SESSION_END = 0x0C;
    /** docs/vectors/protocol.txt, "ping | nonce=3". */
    static final byte[] PING_NONCE_3 = HexFormat.of().parseHex("0000000a010a0000000000000003");
    /** docs/vectors/protocol.txt, "pong | nonce=3". */
    static final byte[] PONG_NONCE_3 = HexFormat.of().parseHex("0000000a010b0000000000000003");

    private final Socket socket;
    private final DataInputStream in;

    /** One received frame: its type byte and payload. */
    record Frame(int type, byte[] payload) {
        ByteBuffer body() {
            return ByteBuffer.wrap(payload);
        }

        /** The whole frame as it was on the wire. */
        byte[] raw() {
            return frame(type, payload);
        }
    }

    /** A plaintext client. */
    WireClient(String host, int port) throws IOException {
        this(host, port, null);
    }

    /** Over TLS 1.3 trusting {@code trustedPem} (a TestRoomServer's), or plaintext if it is null. */
    WireClient(String host, int port, String trustedPem) throws IOException {
        Socket plain = new Socket(InetAddress.getByName(host), port);
        plain.setTcpNoDelay(true);
        if (trustedPem == null) {
            socket = plain;
        } else {
            javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) trusting(trustedPem).getSocketFactory()
                    .createSocket(plain, host, port, true);
            tls.setEnabledProtocols(new String[] {"TLSv1.3"});
            tls.startHandshake();
            socket = tls;
        }
        in = new DataInputStream(socket.getInputStream());
    }

    static javax.net.ssl.SSLContext trusting(String pem) throws IOException {
        try {
            java.security.KeyStore store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (java.security.cert.Certificate c : java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificates(new java.io.ByteArrayInputStream(pem.getBytes(UTF_8)))) {
                store.setCertificateEntry("anchor-" + i++, c);
            }
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    static byte[] joinFrame(String appKey, String channel, long uid, String token, long mediaKey) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(body);
        d.writeByte(1); // version
        d.writeByte(JOIN);
        writeStr(d, appKey);
        writeStr(d, channel);
        d.writeLong(uid);
        writeStr(d, token);
        d.writeLong(mediaKey);
        d.write(mediaSecret(mediaKey));
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        new DataOutputStream(frame).writeInt(body.size());
        body.writeTo(frame);
        return frame.toByteArray();
    }

    /** A version-1 frame of {@code type} around {@code payload}. */
    static byte[] frame(int type, byte[] payload) {
        return ByteBuffer.allocate(6 + payload.length).putInt(2 + payload.length).put((byte) 1).put((byte) type)
                .put(payload).array();
    }

    static byte[] resumeFrame(long sessionId, byte[] secret, long mediaKey) {
        return frame(RESUME, ByteBuffer.allocate(56).putLong(sessionId).put(secret).putLong(mediaKey)
                .put(mediaSecret(mediaKey)).putLong(0).array()); // lastReceived: nothing processed yet
    }

    static byte[] joinOkFrame(long channelId, long sessionId, byte[] secret, String mediaHost, int mediaPort,
                              long serverTimeMs) {
        byte[] host = mediaHost.getBytes(UTF_8);
        return frame(JOIN_OK, ByteBuffer.allocate(8 + 8 + 16 + 2 + host.length + 2 + 8).putLong(channelId)
                .putLong(sessionId).put(secret).putShort((short) host.length).put(host).putShort((short) mediaPort)
                .putLong(serverTimeMs).array());
    }

    static byte[] resumeOkFrame(long channelId, boolean resumed, long sessionId, byte[] secret, String mediaHost,
                                int mediaPort) {
        byte[] host = mediaHost.getBytes(UTF_8);
        return frame(RESUME_OK, ByteBuffer.allocate(8 + 1 + 8 + 16 + 2 + host.length + 2).putLong(channelId)
                .put((byte) (resumed ? 1 : 0)).putLong(sessionId).put(secret).putShort((short) host.length).put(host)
                .putShort((short) mediaPort).array());
    }

    private static void writeStr(DataOutputStream d, String s) throws IOException {
        byte[] b = s.getBytes(UTF_8);
        d.writeShort(b.length);
        d.write(b);
    }

    /** The mediaSecret these tests send with {@code mediaKey}: a function of the key, so no test passes secrets around. */
    static byte[] mediaSecret(long mediaKey) {
        return ByteBuffer.allocate(16).putLong(mediaKey).putLong(~mediaKey).array();
    }

    static io.roomlink.server.protocol.MediaKeys mediaKeys(long mediaKey) {
        return io.roomlink.server.protocol.MediaKeys.derive(mediaKey, mediaSecret(mediaKey));
    }

    private static final java.util.Map<Long, java.util.concurrent.atomic.AtomicLong> COUNTERS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** A 48-byte media v2 datagram, sealed under {@code mediaKey}'s c2s key with its next counter. */
    static byte[] mediaPacket(int type, long mediaKey, int seq, long echoNs) {
        long counter = COUNTERS.computeIfAbsent(mediaKey, k -> new java.util.concurrent.atomic.AtomicLong())
                .incrementAndGet();
        return io.roomlink.server.protocol.MediaCodec.seal(
                new io.roomlink.server.protocol.MediaPacket(type, mediaKey, counter, seq, echoNs),
                mediaKeys(mediaKey).clientToServer());
    }

    /** Opens a server → client datagram of {@code mediaKey}; null if it is not authentic. */
    static io.roomlink.server.protocol.MediaPacket openReply(java.net.DatagramPacket d, long mediaKey) {
        return io.roomlink.server.protocol.MediaCodec.open(d.getData(), d.getOffset(), d.getLength(),
                mediaKeys(mediaKey).serverToClient());
    }

    void send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
    }

    void join(String appKey, String channel, long uid, String token, long mediaKey) throws IOException {
        send(joinFrame(appKey, channel, uid, token, mediaKey));
    }

    /** The next frame, or a SocketTimeoutException after {@code timeout}. */
    Frame read(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        int len = in.readInt();
        int version = in.readUnsignedByte();
        if (version != 1) {
            throw new IOException("unexpected version " + version);
        }
        int type = in.readUnsignedByte();
        byte[] payload = new byte[len - 2];
        in.readFully(payload);
        return new Frame(type, payload);
    }

    /** Reads frames until one of {@code type} arrives (PEER_JOINED and the like are skipped). */
    Frame readUntil(int type, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            Frame f = read(Duration.ofMillis(left));
            if (f.type() == type) {
                return f;
            }
        }
    }

    void resume(long sessionId, byte[] secret, long mediaKey) throws IOException {
        send(resumeFrame(sessionId, secret, mediaKey));
    }

    /** The mediaPort field of a JOIN_OK or RESUME_OK payload. */
    static int mediaPortOf(Frame f) {
        ByteBuffer b = atMediaHost(f);
        int hostLen = b.getShort() & 0xFFFF;
        b.position(b.position() + hostLen);
        return b.getShort() & 0xFFFF;
    }

    /** The mediaHost field of a JOIN_OK or RESUME_OK payload. */
    static String mediaHostOf(Frame f) {
        ByteBuffer b = atMediaHost(f);
        byte[] host = new byte[b.getShort() & 0xFFFF];
        b.get(host);
        return new String(host, UTF_8);
    }

    /** The sessionId field of a JOIN_OK or RESUME_OK payload. */
    static long sessionIdOf(Frame f) {
        return f.body().getLong(f.type() == JOIN_OK ? 8 : 9);
    }

    /** The sessionSecret field of a JOIN_OK or RESUME_OK payload. */
    static byte[] secretOf(Frame f) {
        byte[] secret = new byte[16];
        f.body().position(f.type() == JOIN_OK ? 16 : 17).get(secret);
        return secret;
    }

    /** The resumed flag of a RESUME_OK payload. */
    static boolean resumedOf(Frame resumeOk) {
        return resumeOk.payload()[8] == 1;
    }

    private static ByteBuffer atMediaHost(Frame f) {
        if (f.type() != JOIN_OK && f.type() != RESUME_OK) {
            throw new IllegalArgumentException("not a JOIN_OK or RESUME_OK: type " + f.type());
        }
        return f.body().position(f.type() == JOIN_OK ? 8 + 8 + 16 : 8 + 1 + 8 + 16);
    }

    /** The code field of a JOIN_ERR or SESSION_END payload. */
    static int codeOf(Frame f) {
        return f.body().getInt();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
