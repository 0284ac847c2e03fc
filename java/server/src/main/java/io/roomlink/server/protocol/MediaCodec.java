package io.roomlink.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Sealer and opener of media datagrams, media protocol v2 (docs/PROTOCOL.md, "Media packets"): a
 * fixed 48-byte layout {@code magic:u16=0x524C | ver:u8=2 | type:u8 | mediaKey:u64 | counter:u64}
 * (the 20-byte header, in clear and authenticated as AAD) then AES-128-GCM of
 * {@code seq:u32 | echoNs:u64} (12 bytes) and the 16-byte tag; nonce = 4 zero bytes ‖ counter.
 *
 * <p>Opening never throws on bad input: a malformed or unauthentic datagram opens to {@code null}
 * (the server drops and counts it). The shape check ({@link #wellFormed}) is free of crypto, so
 * garbage costs no cipher work; a well-formed forgery costs one GCM tag check (the JDK signals a
 * bad tag with an exception, caught here). Stateless and thread-safe: each thread has its own
 * {@link Cipher}s, since a Cipher is not.
 */
public final class MediaCodec {
    public static final int MAGIC = 0x524C;
    public static final int VERSION = 2;
    /** Every datagram has exactly this size. */
    public static final int SIZE = 48;
    /** The clear header: magic, version, type, mediaKey, counter; the AEAD's associated data. */
    public static final int HEADER = 20;
    /** GCM tag length. */
    public static final int TAG = 16;
    /** Sealed payload length: seq (4) and echoNs (8). */
    public static final int PAYLOAD = 12;
    /** Largest datagram either side may send (receive buffers are at least this big). */
    public static final int MAX_DATAGRAM = 1200;

    public static final int BIND = 0x01;
    public static final int BIND_ACK = 0x02;
    public static final int PING = 0x03;
    public static final int PONG = 0x04;

    private static final String TRANSFORM = "AES/GCM/NoPadding";

    /** Per-thread scratch: cipher instances and buffers, so a datagram allocates almost nothing. */
    private static final class Scratch {
        final Cipher sealer = cipher();
        final Cipher opener = cipher();
        final byte[] nonce = new byte[12];
        final byte[] in = new byte[SIZE];
        final byte[] out = new byte[SIZE];

        private static Cipher cipher() {
            try {
                return Cipher.getInstance(TRANSFORM);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(TRANSFORM + " is part of every JDK", e);
            }
        }

        GCMParameterSpec spec(long counter) {
            for (int i = 0; i < 8; i++) {
                nonce[4 + i] = (byte) (counter >>> (56 - 8 * i));
            }
            return new GCMParameterSpec(TAG * 8, nonce); // copies nonce
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private MediaCodec() {
    }

    /**
     * Whether the readable bytes of {@code in} have the shape of a v2 datagram: size, magic,
     * version and a known type. Consumes nothing, decrypts nothing.
     */
    public static boolean wellFormed(ByteBuf in) {
        if (in.readableBytes() != SIZE) {
            return false;
        }
        int i = in.readerIndex();
        if (in.getUnsignedShort(i) != MAGIC || in.getUnsignedByte(i + 2) != VERSION) {
            return false;
        }
        int type = in.getUnsignedByte(i + 3);
        return type >= BIND && type <= PONG;
    }

    /** The clear type byte of a {@link #wellFormed} datagram. */
    public static int type(ByteBuf in) {
        return in.getUnsignedByte(in.readerIndex() + 3);
    }

    /** The clear mediaKey of a {@link #wellFormed} datagram. */
    public static long mediaKey(ByteBuf in) {
        return in.getLong(in.readerIndex() + 4);
    }

    /** The clear counter of a {@link #wellFormed} datagram. */
    public static long counter(ByteBuf in) {
        return in.getLong(in.readerIndex() + 12);
    }

    /**
     * Opens the readable bytes of {@code in} (without consuming them) with {@code key}.
     *
     * @return the packet, or {@code null} if the datagram is malformed or its tag does not verify
     *         under {@code key} (forged, corrupted, or sealed under another key)
     */
    public static MediaPacket open(ByteBuf in, SecretKey key) {
        if (key == null || !wellFormed(in)) {
            return null;
        }
        Scratch s = SCRATCH.get();
        in.getBytes(in.readerIndex(), s.in, 0, SIZE);
        return openScratch(s, key);
    }

    /** Opens {@code len} bytes of {@code data} from {@code off}; {@code null} as for {@link #open(ByteBuf, SecretKey)}. */
    public static MediaPacket open(byte[] data, int off, int len, SecretKey key) {
        if (data == null || off < 0 || len < 0 || off > data.length - len) {
            return null;
        }
        return open(Unpooled.wrappedBuffer(data, off, len), key);
    }

    private static MediaPacket openScratch(Scratch s, SecretKey key) {
        byte[] b = s.in;
        long mediaKey = getLong(b, 4);
        long counter = getLong(b, 12);
        try {
            Cipher c = s.opener;
            c.init(Cipher.DECRYPT_MODE, key, s.spec(counter));
            c.updateAAD(b, 0, HEADER);
            int n = c.doFinal(b, HEADER, PAYLOAD + TAG, s.out, 0);
            if (n != PAYLOAD) {
                return null;
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            // AEADBadTagException for a forgery; anything else (a key of the wrong kind) is just as unauthentic
            return null;
        }
        byte[] p = s.out;
        int seq = ((p[0] & 0xFF) << 24) | ((p[1] & 0xFF) << 16) | ((p[2] & 0xFF) << 8) | (p[3] & 0xFF);
        return new MediaPacket(b[3] & 0xFF, mediaKey, counter, seq, getLong(p, 4));
    }

    /**
     * Appends the 48 sealed bytes of {@code p} to {@code out}. The caller owns the counter: it
     * must never seal two datagrams with one counter under one key (GCM loses all secrecy and
     * authenticity if a nonce repeats).
     */
    public static void seal(MediaPacket p, SecretKey key, ByteBuf out) {
        out.writeBytes(seal(p, key));
    }

    /** The 48 sealed bytes of {@code p}; see {@link #seal(MediaPacket, SecretKey, ByteBuf)}. */
    public static byte[] seal(MediaPacket p, SecretKey key) {
        Scratch s = SCRATCH.get();
        byte[] d = new byte[SIZE];
        d[0] = (byte) (MAGIC >>> 8);
        d[1] = (byte) MAGIC;
        d[2] = (byte) VERSION;
        d[3] = (byte) p.type();
        putLong(d, 4, p.mediaKey());
        putLong(d, 12, p.counter());
        byte[] plain = s.in;
        int seq = p.seq();
        plain[0] = (byte) (seq >>> 24);
        plain[1] = (byte) (seq >>> 16);
        plain[2] = (byte) (seq >>> 8);
        plain[3] = (byte) seq;
        putLong(plain, 4, p.echoNs());
        try {
            Cipher c = s.sealer;
            GCMParameterSpec spec = s.spec(p.counter());
            try {
                c.init(Cipher.ENCRYPT_MODE, key, spec);
            } catch (InvalidAlgorithmParameterException sameKeyAndNonce) {
                // The JDK refuses the key and nonce of this instance's previous seal; that can be a
                // deliberate test of the receiver (a hostile sender repeating a datagram), so reset.
                c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG * 8, new byte[]{1, 2, 3, 4, 5, 6, 7, 8,
                        9, 10, 11, 12}));
                c.init(Cipher.ENCRYPT_MODE, key, spec);
            }
            c.updateAAD(d, 0, HEADER);
            int n = c.doFinal(plain, 0, PAYLOAD, d, HEADER);
            if (n != PAYLOAD + TAG) {
                throw new IllegalStateException("GCM produced " + n + " bytes");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot seal with " + key.getAlgorithm() + " key", e);
        }
        return d;
    }

    private static long getLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xFF);
        }
        return v;
    }

    private static void putLong(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (56 - 8 * i));
        }
    }
}
