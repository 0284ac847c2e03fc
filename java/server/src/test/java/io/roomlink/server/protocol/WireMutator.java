package io.roomlink.server.protocol;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Mutations of valid frames that aim at the decoders' edges: bit flips, truncation, splicing of
 * two frames, and length fields (the frame's u32 and the strings' u16) set to boundary values.
 */
final class WireMutator {
    private static final long[] FRAME_LENGTHS = {0, 1, WireCodec.MIN_FRAME, 3, WireCodec.MAX_FRAME - 1,
            WireCodec.MAX_FRAME, WireCodec.MAX_FRAME + 1L, 0x7FFFFFFFL, 0x80000000L, 0xFFFFFFFFL,
            // MESSAGE (2 + 17 + data) and ROOM_MESSAGE (2 + 9 + data) at their data limits
            19, 20, 19 + WireCodec.DATA_MAX, 20 + WireCodec.DATA_MAX, 11, 12, 11 + WireCodec.DATA_MAX,
            12 + WireCodec.DATA_MAX};
    private static final int[] STRING_LENGTHS = {0, 1, WireCodec.APP_KEY_MAX, WireCodec.APP_KEY_MAX + 1,
            WireCodec.MEDIA_HOST_MAX, WireCodec.MEDIA_HOST_MAX + 1, WireCodec.MESSAGE_MAX, WireCodec.MESSAGE_MAX + 1,
            WireCodec.TOKEN_MAX, WireCodec.TOKEN_MAX + 1, 0x7FFF, 0xFFFF};

    private final SplittableRandom random;

    WireMutator(SplittableRandom random) {
        this.random = random;
    }

    /** One to four stacked mutations of {@code frame}; {@code pool} supplies splice partners. */
    byte[] mutate(byte[] frame, List<byte[]> pool) {
        byte[] out = frame.clone();
        int rounds = 1 + random.nextInt(4);
        for (int r = 0; r < rounds; r++) {
            out = switch (random.nextInt(8)) {
                case 7 -> messageFields(out);
                case 0 -> flipBits(out);
                case 1 -> truncate(out);
                case 2 -> splice(out, pool.get(random.nextInt(pool.size())));
                case 3 -> frameLength(out, FRAME_LENGTHS[random.nextInt(FRAME_LENGTHS.length)]);
                case 4 -> frameLength(out, out.length - WireCodec.LENGTH_FIELD + random.nextInt(-2, 3));
                case 5 -> stringLength(out);
                default -> randomBytes(out);
            };
        }
        return out;
    }

    private byte[] flipBits(byte[] in) {
        if (in.length == 0) {
            return in;
        }
        byte[] out = in.clone();
        int flips = 1 + random.nextInt(3);
        for (int i = 0; i < flips; i++) {
            out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
        }
        return out;
    }

    private byte[] truncate(byte[] in) {
        return Arrays.copyOf(in, in.length == 0 ? 0 : random.nextInt(in.length));
    }

    private byte[] splice(byte[] a, byte[] b) {
        int cutA = a.length == 0 ? 0 : random.nextInt(a.length + 1);
        int cutB = b.length == 0 ? 0 : random.nextInt(b.length + 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(a, 0, cutA);
        out.write(b, cutB, b.length - cutB);
        return out.toByteArray();
    }

    private static byte[] frameLength(byte[] in, long len) {
        byte[] out = in.length < WireCodec.LENGTH_FIELD ? Arrays.copyOf(in, WireCodec.LENGTH_FIELD) : in.clone();
        long v = len & 0xFFFFFFFFL;
        out[0] = (byte) (v >>> 24);
        out[1] = (byte) (v >>> 16);
        out[2] = (byte) (v >>> 8);
        out[3] = (byte) v;
        return out;
    }

    /** Overwrites a u16 somewhere in the payload: where a string's length is, it is now at an edge. */
    private byte[] stringLength(byte[] in) {
        int payload = WireCodec.LENGTH_FIELD + 2;
        if (in.length < payload + 2) {
            return in;
        }
        byte[] out = in.clone();
        int at = payload + random.nextInt(out.length - payload - 1);
        int v = STRING_LENGTHS[random.nextInt(STRING_LENGTHS.length)];
        out[at] = (byte) (v >>> 8);
        out[at + 1] = (byte) v;
        return out;
    }

    /**
     * The edges of MESSAGE and ROOM_MESSAGE: target not 0/1, a toUid with target 0, data emptied
     * or grown past 16384 bytes (the length field follows, so only the field is wrong).
     */
    private byte[] messageFields(byte[] in) {
        if (in.length < WireCodec.LENGTH_FIELD + 2) {
            return in;
        }
        int type = in[WireCodec.LENGTH_FIELD + 1] & 0xFF;
        if (type != WireCodec.MESSAGE && type != WireCodec.ROOM_MESSAGE) {
            return in;
        }
        int targetAt = WireCodec.LENGTH_FIELD + 2 + 8;
        int dataAt = targetAt + 1 + (type == WireCodec.MESSAGE ? 8 : 0);
        if (in.length < dataAt) {
            return in;
        }
        byte[] out = in.clone();
        switch (random.nextInt(4)) {
            case 0 -> out[targetAt] = (byte) (new int[] {0, 1, 2, 255})[random.nextInt(4)];
            case 1 -> {
                if (type == WireCodec.MESSAGE) {
                    out[dataAt - 1] = (byte) (1 + random.nextInt(255)); // toUid low byte
                }
            }
            case 2 -> out = frameLength(Arrays.copyOf(out, dataAt), dataAt - WireCodec.LENGTH_FIELD);
            default -> {
                int len = dataAt + WireCodec.DATA_MAX + random.nextInt(0, 2);
                out = frameLength(Arrays.copyOf(out, len), len - WireCodec.LENGTH_FIELD);
            }
        }
        return out;
    }

    private byte[] randomBytes(byte[] in) {
        byte[] out = in.clone();
        int n = out.length == 0 ? 0 : 1 + random.nextInt(Math.min(8, out.length));
        for (int i = 0; i < n; i++) {
            out[random.nextInt(out.length)] = (byte) random.nextInt(256);
        }
        return out;
    }
}
