package io.roomlink.testkit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application-level gateway of one proxied signaling connection, server to client: it follows
 * the frames of docs/PROTOCOL.md ({@code len:u32 | ver:u8 | type:u8 | payload}) across read chunks
 * and, while {@code active}, replaces {@code mediaHost}/{@code mediaPort} in {@code JOIN_OK} (0x02)
 * and {@code RESUME_OK} (0x05) with the proxy's own media address, fixing the length prefix.
 *
 * <p>It is deliberately not a validator: it reads the length, version and type of each frame and
 * the two fields it rewrites, nothing else. Every other frame, and every byte of a rewritten frame
 * outside those two fields, passes unchanged. Bytes it cannot follow (a length out of range, an
 * unknown version, a JOIN_OK/RESUME_OK too short to hold a media address) switch it off for the
 * rest of the connection: from then on bytes pass through as they come.
 *
 * <p>Only the header of a frame (at most 6 bytes, until its type is known) is held while active,
 * plus the whole of a frame being rewritten. While inactive nothing is held: the frames are only
 * followed, so that rewriting can resume at the next frame boundary. Runs on the I/O thread only.
 */
final class MediaAddressRewriter {
    private static final Logger log = LoggerFactory.getLogger(MediaAddressRewriter.class);

    static final int VERSION = 1;
    static final int JOIN_OK = 0x02;
    static final int RESUME_OK = 0x05;
    static final int MAX_FRAME = 65536;
    static final int MIN_FRAME = 2;
    private static final int LENGTH_FIELD = 4;
    private static final int HEADER = LENGTH_FIELD + 2;
    /** Payload offset of mediaHost: JOIN_OK has channelId, sessionId, secret before it; RESUME_OK also a u8 flag. */
    private static final int JOIN_OK_HOST_OFFSET = 8 + 8 + 16;
    private static final int RESUME_OK_HOST_OFFSET = 8 + 1 + 8 + 16;
    private static final byte[] EMPTY = new byte[0];

    private final byte[] host;
    private final String hostText;
    private final int port;
    private final Counters counters;
    private final String connection;

    /** The current frame's header bytes seen so far, and how many of them went out already. */
    private final byte[] header = new byte[HEADER];
    private int headerLen;
    private int headerEmitted;
    /** Payload bytes of the current pass-through frame still to come. */
    private int bodyLeft;
    /** A JOIN_OK/RESUME_OK being collected, whole (header included), and how much of it is here. */
    private byte[] frame;
    private int frameLen;
    private boolean gaveUp;

    /**
     * @param host       the media host to put into the frames (the proxy's)
     * @param port       the media port to put into the frames (the proxy's)
     * @param counters   where rewritten frames are counted
     * @param connection names the connection in log messages
     */
    MediaAddressRewriter(String host, int port, Counters counters, String connection) {
        this.host = host.getBytes(StandardCharsets.UTF_8);
        this.hostText = host;
        this.port = port;
        this.counters = counters;
        this.connection = connection;
        if (this.host.length < 1 || this.host.length > 255 || port < 1 || port > 0xFFFF) {
            throw new IllegalArgumentException("bad media address " + host + ":" + port);
        }
    }

    /** Whether it met bytes it could not follow and now passes everything through unchanged. */
    boolean gaveUp() {
        return gaveUp;
    }

    /** Bytes taken in and not yet given back: part of a header, or part of a frame to rewrite. */
    int held() {
        return (frame != null ? frameLen : 0) + headerLen - headerEmitted;
    }

    /**
     * Takes the next bytes read from the server and returns what may go to the client now (maybe
     * nothing, maybe more than {@code in} when held bytes complete). {@code active} says whether
     * frames completed in this call are rewritten; while inactive nothing new is held.
     */
    byte[] process(byte[] in, boolean active) {
        if (gaveUp) {
            return in;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 16);
        if (!active && frame == null) {
            emitHeld(out); // switched off while a header waited: let it go
        }
        int i = 0;
        while (i < in.length) {
            if (frame != null) {
                int n = Math.min(frame.length - frameLen, in.length - i);
                System.arraycopy(in, i, frame, frameLen, n);
                frameLen += n;
                i += n;
                if (frameLen == frame.length && !completeFrame(active, out)) {
                    out.write(in, i, in.length - i);
                    return out.toByteArray();
                }
            } else if (headerLen == HEADER) {
                int n = Math.min(bodyLeft, in.length - i);
                out.write(in, i, n);
                i += n;
                bodyLeft -= n;
                if (bodyLeft == 0) {
                    nextFrame();
                }
            } else {
                header[headerLen++] = in[i++];
                if (!active) {
                    emitHeld(out);
                }
                String problem = checkHeader();
                if (problem != null) {
                    giveUp(problem, active);
                    emitHeld(out);
                    out.write(in, i, in.length - i);
                    return out.toByteArray();
                }
                if (headerLen == HEADER && !startBody(active, out)) {
                    out.write(in, i, in.length - i);
                    return out.toByteArray();
                }
            }
        }
        return out.toByteArray();
    }

    /** The server's side ended: whatever is held goes out unchanged, ahead of the FIN or reset. */
    byte[] drain() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (frame != null) {
            out.write(frame, 0, frameLen);
            frame = null;
            frameLen = 0;
        } else {
            emitHeld(out);
        }
        headerLen = 0;
        headerEmitted = 0;
        return out.size() == 0 ? EMPTY : out.toByteArray();
    }

    /** Rejects a header as soon as its known bytes rule out a valid frame. */
    private String checkHeader() {
        if (headerLen <= LENGTH_FIELD) {
            long least = 0; // the length with the bytes not read yet taken as zero
            for (int k = 0; k < LENGTH_FIELD; k++) {
                least = (least << 8) | (k < headerLen ? header[k] & 0xFF : 0);
            }
            if (least > MAX_FRAME) {
                return "frame length " + (headerLen == LENGTH_FIELD ? least : ">= " + least) + " above " + MAX_FRAME;
            }
            if (headerLen == LENGTH_FIELD && least < MIN_FRAME) {
                return "frame length " + least + " below " + MIN_FRAME;
            }
        } else if (headerLen == LENGTH_FIELD + 1 && header[LENGTH_FIELD] != VERSION) {
            return "frame version " + (header[LENGTH_FIELD] & 0xFF);
        }
        return null;
    }

    /** The header is complete: collect the frame if it is to be rewritten, else stream its payload. */
    private boolean startBody(boolean active, ByteArrayOutputStream out) {
        int len = frameLength(header, 0);
        int type = header[LENGTH_FIELD + 1] & 0xFF;
        if (active && headerEmitted == 0 && (type == JOIN_OK || type == RESUME_OK)) {
            frame = new byte[LENGTH_FIELD + len];
            System.arraycopy(header, 0, frame, 0, HEADER);
            frameLen = HEADER;
            headerEmitted = HEADER; // now part of the frame
            return frameLen < frame.length || completeFrame(true, out);
        }
        emitHeld(out);
        bodyLeft = len - 2;
        if (bodyLeft == 0) {
            nextFrame();
        }
        return true;
    }

    /** Writes the collected frame out, rewritten if it can be; false if it could not be followed. */
    private boolean completeFrame(boolean active, ByteArrayOutputStream out) {
        byte[] f = frame;
        frame = null;
        frameLen = 0;
        nextFrame();
        if (!active) {
            out.write(f, 0, f.length);
            return true;
        }
        int type = f[LENGTH_FIELD + 1] & 0xFF;
        int hostAt = HEADER + (type == JOIN_OK ? JOIN_OK_HOST_OFFSET : RESUME_OK_HOST_OFFSET);
        int hostLen = hostAt + 2 <= f.length ? u16(f, hostAt) : -1;
        int portAt = hostAt + 2 + hostLen;
        if (hostLen < 0 || portAt + 2 > f.length) {
            giveUp(name(type) + " of " + (f.length - HEADER) + " payload bytes has no room for a media address",
                    true);
            out.write(f, 0, f.length);
            return false;
        }
        int newLen = f.length - LENGTH_FIELD - hostLen + host.length;
        if (newLen > MAX_FRAME) {
            giveUp(name(type) + " would grow beyond " + MAX_FRAME + " bytes", true);
            out.write(f, 0, f.length);
            return false;
        }
        String oldHost = new String(f, hostAt + 2, hostLen, StandardCharsets.UTF_8);
        int oldPort = u16(f, portAt);
        out.write(newLen >>> 24);
        out.write(newLen >>> 16);
        out.write(newLen >>> 8);
        out.write(newLen);
        out.write(f, LENGTH_FIELD, hostAt - LENGTH_FIELD);
        out.write(host.length >>> 8);
        out.write(host.length);
        out.write(host, 0, host.length);
        out.write(port >>> 8);
        out.write(port);
        out.write(f, portAt + 2, f.length - portAt - 2);
        counters.signalFramesRewritten++;
        log.debug("FaultProxy {}: {} media address {}:{} rewritten to {}:{}", connection, name(type), oldHost,
                oldPort, hostText, port);
        return true;
    }

    private void emitHeld(ByteArrayOutputStream out) {
        out.write(header, headerEmitted, headerLen - headerEmitted);
        headerEmitted = headerLen;
    }

    private void nextFrame() {
        headerLen = 0;
        headerEmitted = 0;
        bodyLeft = 0;
    }

    private void giveUp(String problem, boolean active) {
        gaveUp = true;
        String message = "FaultProxy {}: cannot follow the server's signaling frames ({}); passing the rest of "
                + "this connection through unchanged, without rewriting media addresses";
        if (active) {
            log.warn(message, connection, problem);
        } else {
            log.debug(message, connection, problem);
        }
    }

    private static String name(int type) {
        return type == JOIN_OK ? "JOIN_OK" : "RESUME_OK";
    }

    private static int frameLength(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    private static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }
}
